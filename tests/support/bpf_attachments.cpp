#include "support/bpf_attachments.h"

#include <fcntl.h>

#include <thread>

#include "common/fd.h"

namespace shadowai::test {

Result<unsigned> attachedProgramCount(const std::string& cgroupPath, bpf_attach_type type) {
  Fd cgroup(::open(cgroupPath.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!cgroup) return errnoError("cannot open " + cgroupPath);
  __u32 attachFlags = 0;
  __u32 count = 0;
  if (bpf_prog_query(cgroup.get(), type, 0, &attachFlags, nullptr, &count) != 0) {
    return errnoError("bpf_prog_query on " + cgroupPath);
  }
  return count;
}

Status waitForAttachedProgram(const std::string& cgroupPath, bpf_attach_type type,
                              std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    auto count = attachedProgramCount(cgroupPath, type);
    if (!count) return count.error();
    if (*count > 0) return {};
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return makeError("no BPF program attached to " + cgroupPath + " in time");
}

}  // namespace shadowai::test
