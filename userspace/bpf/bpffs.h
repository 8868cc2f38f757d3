// Makes sure a directory on a BPF filesystem exists for pins, mounting bpffs where none is.
#pragma once

#include <string>

#include "common/result.h"

namespace shadowai {

bool isOnBpffs(const std::string& path);
// Ensures `pinDir` exists on a bpffs: uses it as is, creates it inside a bpffs parent, mounts
// bpffs on /sys/fs/bpf when that is an empty mount point, or mounts one on the directory itself.
Status ensureBpffsDirectory(const std::string& pinDir);

}  // namespace shadowai
