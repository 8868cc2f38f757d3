// One line to stderr from a thread that must not wait for whoever reads it. Under systemd, stderr
// is a stream socket to journald; a journald that stops reading (stuck on a slow disk, restarting)
// would stop a writer blocked there, and a proxy thread stopped there stops every connection it
// serves. So the line goes out only if the socket takes it now, and is dropped otherwise: a caller
// that must not lose the fact counts it too.
#pragma once

#include <string_view>

namespace shadowai {

// Writes LINE and a newline. A stderr that is not a socket (a terminal, a file, a test's pipe) is
// written as usual. False when the line was dropped (or cut short).
bool writeStderrLineWithoutWaiting(std::string_view line);

}  // namespace shadowai
