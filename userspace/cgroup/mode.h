// Mode: what shadowai does with the connections of one cgroup. A cgroup without a mode of its own
// inherits its nearest ancestor's (see ModeStore in daemon/mode_store.h).
// It sits in cgroup/ because the control protocol and the daemon both speak it.
#pragma once

#include <optional>
#include <string_view>

namespace shadowai {

enum class Mode {
  kOff,      // not observed at all
  kDetect,   // observed and alerted on, traffic untouched (the default)
  kEnforce,  // connections to the redirect ports go through the local proxy
};

// "off", "detect", "enforce": the words of the CLI, the control protocol and modes.json.
std::string_view toString(Mode mode);
// The inverse of toString; nullopt for anything else (case matters).
std::optional<Mode> parseMode(std::string_view text);

}  // namespace shadowai
