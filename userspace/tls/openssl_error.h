// Turning OpenSSL's thread-local error queue into one line a user can act on.
#pragma once

#include <string>

#include "common/result.h"

namespace shadowai {

// "WHAT: <OpenSSL's reason>", taken from this thread's error queue, which it then clears so a
// stale entry never leaks into the next failure's message.
Error openSslError(const std::string& what);

}  // namespace shadowai
