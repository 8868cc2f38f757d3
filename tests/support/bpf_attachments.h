// Asks the kernel which BPF programs are attached to a cgroup, so a test can wait until a scan or
// daemon has really attached (no sleeps standing in for readiness), and check that it detached.
#pragma once

#include <bpf/bpf.h>

#include <chrono>
#include <string>

#include "common/result.h"

namespace shadowai::test {

// Programs attached directly to the cgroup for one attach type (effective ones are not counted).
Result<unsigned> attachedProgramCount(const std::string& cgroupPath, bpf_attach_type type);

// Waits until at least one program of `type` is attached to the cgroup.
Status waitForAttachedProgram(const std::string& cgroupPath, bpf_attach_type type,
                              std::chrono::milliseconds timeout);

}  // namespace shadowai::test
