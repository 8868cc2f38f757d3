// The daemon's status object as text for people (`shadowai status`; `--json` prints the object as is).
// The daemon decides what the object holds; this view knows only its broad shape (docs/daemon.md):
// "version", "pid", "uptime_seconds" make the first line, other plain values follow as "name: value",
// each object becomes a section ("proxy" first), and "modes" (ModeStore::toStatusJson) a table last.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

namespace shadowai {

std::string renderStatus(const nlohmann::json& status);

}  // namespace shadowai
