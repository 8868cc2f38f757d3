#include "support/workload_process.h"

namespace shadowai::test {

ProcessIdentity serviceProcess(int pid, const std::string& unit, uint32_t uid, const std::string& userName,
                               const std::string& comm, const std::string& exe) {
  ProcessIdentity process;
  process.pid = pid;
  process.uid = uid;
  process.userName = userName;
  process.comm = comm;
  process.exe = exe;
  process.cgroupPath = "/system.slice/" + unit;
  return process;
}

Result<Catalog> loadShippedCatalog() { return Catalog::load(std::string(SHADOWAI_SOURCE_RULES_DIR) + "/endpoints.json", {}); }

}  // namespace shadowai::test
