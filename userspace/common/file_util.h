// Small helpers for reading files that may vanish under us (/proc, /sys) or be large (catalogs).
#pragma once

#include <string>

#include "common/result.h"

namespace shadowai {

// Reads a whole file. Fails with errno set (ENOENT when a /proc entry went away).
Result<std::string> readFile(const std::string& path);

// Writes a whole file, replacing it atomically (write to PATH.tmp, fsync, rename) so a reader never
// sees half a report or half a state file.
Status writeFileAtomic(const std::string& path, const std::string& content);

}  // namespace shadowai
