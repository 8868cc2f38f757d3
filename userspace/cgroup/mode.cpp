#include "cgroup/mode.h"

namespace shadowai {

std::string_view toString(Mode mode) {
  switch (mode) {
    case Mode::kOff:
      return "off";
    case Mode::kDetect:
      return "detect";
    case Mode::kEnforce:
      return "enforce";
  }
  return "detect";
}

std::optional<Mode> parseMode(std::string_view text) {
  for (Mode mode : {Mode::kOff, Mode::kDetect, Mode::kEnforce}) {
    if (text == toString(mode)) return mode;
  }
  return std::nullopt;
}

}  // namespace shadowai
