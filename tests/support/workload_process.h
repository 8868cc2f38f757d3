// The workloads unit tests attribute connections to: a process of a systemd service as /proc would
// name it, and the shipped endpoint catalog they match calls against.
#pragma once

#include <cstdint>
#include <string>

#include "catalog/catalog.h"
#include "common/result.h"
#include "observe/detection.h"

namespace shadowai::test {

// PID of UNIT (cgroup /system.slice/UNIT), run by UID (USER_NAME) as COMM from EXE.
ProcessIdentity serviceProcess(int pid, const std::string& unit, uint32_t uid, const std::string& userName,
                               const std::string& comm, const std::string& exe);

// rules/endpoints.json of this source tree.
Result<Catalog> loadShippedCatalog();

}  // namespace shadowai::test
