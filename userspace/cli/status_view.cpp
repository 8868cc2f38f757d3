#include "cli/status_view.h"

#include <algorithm>
#include <utility>
#include <vector>

#include "common/printable_text.h"
#include "common/text_table.h"

namespace shadowai {
namespace {

using Json = nlohmann::json;

// "tcp_connects" -> "tcp connects".
std::string label(const std::string& key) {
  std::string text = printableText(key);
  std::replace(text.begin(), text.end(), '_', ' ');
  return text;
}

std::string scalarText(const Json& value) {
  if (value.is_string()) return printableText(value.get<std::string>());
  if (value.is_null()) return "-";
  if (value.is_array()) {
    std::string joined;
    for (const Json& item : value) joined += (joined.empty() ? "" : ", ") + scalarText(item);
    return joined.empty() ? "-" : joined;
  }
  return value.dump();
}

bool isPlainArray(const Json& value) {
  return value.is_array() &&
         std::all_of(value.begin(), value.end(), [](const Json& item) { return !item.is_structured(); });
}

// Nested objects flattened to "outer inner" rows.
void collectRows(const Json& object, const std::string& prefix, std::vector<std::pair<std::string, std::string>>& rows) {
  for (const auto& [key, value] : object.items()) {
    const std::string name = prefix.empty() ? label(key) : prefix + " " + label(key);
    if (value.is_object()) {
      collectRows(value, name, rows);
    } else if (value.is_array() && !isPlainArray(value)) {
      rows.emplace_back(name, printableText(value.dump()));
    } else {
      rows.emplace_back(name, scalarText(value));
    }
  }
}

std::string renderSection(const std::string& name, const Json& object) {
  std::vector<std::pair<std::string, std::string>> rows;
  collectRows(object, "", rows);
  size_t width = 0;
  for (const auto& row : rows) width = std::max(width, row.first.size());
  std::string out = "\n" + label(name) + ":\n";
  for (const auto& [key, value] : rows) out += "  " + key + std::string(width - key.size() + 2, ' ') + value + "\n";
  return out;
}

std::string durationText(const Json& seconds) {
  if (!seconds.is_number_integer()) return scalarText(seconds);
  long long left = seconds.get<long long>();
  const long long days = left / 86400, hours = left / 3600 % 24, minutes = left / 60 % 60, secs = left % 60;
  std::string text;
  if (days > 0) text += std::to_string(days) + "d ";
  if (days > 0 || hours > 0) text += std::to_string(hours) + "h ";
  if (days > 0 || hours > 0 || minutes > 0) text += std::to_string(minutes) + "m ";
  return text + std::to_string(secs) + "s";
}

std::string renderModes(const Json& modes) {
  TextTable table({"CGROUP", "MODE", "SOURCE"});
  for (const Json& entry : modes) {
    if (!entry.is_object()) continue;
    const Json own = entry.value("own", Json(true));
    table.addRow({scalarText(entry.value("cgroup", Json(nullptr))), scalarText(entry.value("mode", Json(nullptr))),
                  own == Json(false) ? "default" : "set"});
  }
  return "\nmodes (a cgroup without its own mode inherits its nearest ancestor's):\n" + table.render();
}

// The proxy's listeners in containers' network namespaces.
std::string renderNamespaces(const Json& namespaces) {
  TextTable table({"NETNS", "PID", "CGROUP", "LISTENING"});
  for (const Json& entry : namespaces) {
    if (!entry.is_object()) continue;
    std::string listening;
    if (entry.contains("error")) {
      // Appended, not "no: " + text: GCC 12 at -O3 warns falsely (-Wrestrict) on that form.
      listening = "no: ";
      listening += scalarText(entry["error"]);
    } else {
      listening = scalarText(entry.value("listening", Json(nullptr)));
    }
    table.addRow({scalarText(entry.value("netns", Json(nullptr))), scalarText(entry.value("pid", Json(nullptr))),
                  scalarText(entry.value("cgroup", Json(nullptr))), listening});
  }
  return "\nproxy in containers' network namespaces:\n" + table.render();
}

}  // namespace

std::string renderStatus(const nlohmann::json& status) {
  if (!status.is_object()) return scalarText(status) + "\n";
  std::string out = "shadowaid";
  if (status.contains("version")) out += " " + scalarText(status["version"]);
  if (status.contains("pid")) out += ", pid " + scalarText(status["pid"]);
  if (status.contains("uptime_seconds")) out += ", up " + durationText(status["uptime_seconds"]);
  out += "\n";

  const auto isHeader = [](const std::string& key) {
    return key == "version" || key == "pid" || key == "uptime_seconds";
  };
  std::vector<std::string> sections;
  for (const auto& [key, value] : status.items()) {
    if (isHeader(key) || key == "modes") continue;
    if (value.is_object() || (value.is_array() && !isPlainArray(value))) {
      sections.push_back(key);
    } else {
      out += label(key) + ": " + scalarText(value) + "\n";
    }
  }
  // The proxy first: it is what enforce mode depends on.
  std::stable_partition(sections.begin(), sections.end(), [](const std::string& key) { return key == "proxy"; });
  Json namespaces;
  for (const std::string& key : sections) {
    Json value = status[key];
    if (key == "proxy" && value.is_object() && value.contains("network_namespaces")) {
      namespaces = value["network_namespaces"];
      value.erase("network_namespaces");
    }
    out += value.is_object() ? renderSection(key, value) : renderSection(key, Json{{"entries", value}});
  }
  if (namespaces.is_array() && !namespaces.empty()) out += renderNamespaces(namespaces);
  if (status.contains("modes") && status["modes"].is_array()) out += renderModes(status["modes"]);
  return out;
}

}  // namespace shadowai
