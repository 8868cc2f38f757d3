// Routes libbpf's own messages into our stderr log: warnings always, debug lines (verifier logs,
// relocation details) only with --verbose.
#pragma once

namespace shadowai {
void routeLibbpfLog(bool verbose);
}
