#include "policy/rule_selector.h"

#include <fnmatch.h>

#include <algorithm>

namespace shadowai {
namespace {

// An empty list is a field the rule does not restrict.
template <typename Value, typename Predicate>
bool anyMatches(const std::vector<Value>& list, Predicate matches) {
  return list.empty() || std::any_of(list.begin(), list.end(), matches);
}

bool anyGlob(const std::vector<std::string>& globs, const std::string& value, bool caseInsensitive = false) {
  return anyMatches(
      globs, [&](const std::string& glob) { return !value.empty() && globMatches(glob, value, caseInsensitive); });
}

bool anyExact(const std::vector<std::string>& names, const std::string& value) {
  return anyMatches(names, [&](const std::string& name) { return !value.empty() && name == value; });
}

}  // namespace

bool cgroupPrefixMatches(std::string_view prefix, std::string_view path) {
  while (prefix.size() > 1 && prefix.ends_with('/')) prefix.remove_suffix(1);
  if (path.empty()) return false;
  if (prefix == "/") return path.starts_with('/');
  return path == prefix || (path.starts_with(prefix) && path.size() > prefix.size() && path[prefix.size()] == '/');
}

bool globMatches(const std::string& pattern, const std::string& value, bool caseInsensitive) {
  // fnmatch would see only the part before a NUL ("gpt-4\0x" as "gpt-4"): such a value matches nothing.
  if (value.find('\0') != std::string::npos) return false;
  return ::fnmatch(pattern.c_str(), value.c_str(), caseInsensitive ? FNM_CASEFOLD : 0) == 0;
}

bool selectorMatches(const RuleSelector& selector, const WorkloadFacts& workload, const CallFacts& call) {
  const WorkloadSelector& w = selector.workload;
  const CallSelector& c = selector.call;
  return anyMatches(w.cgroups,
                    [&](const std::string& prefix) { return cgroupPrefixMatches(prefix, workload.cgroupPath); }) &&
         anyGlob(w.units, workload.unit) && anyGlob(w.containers, workload.containerId) &&
         anyMatches(w.uids, [&](uint32_t uid) { return workload.uid == uid; }) && anyExact(w.users, workload.user) &&
         anyGlob(w.exes, workload.exe) && anyExact(c.providers, call.provider) &&
         anyGlob(c.hosts, call.host, /*caseInsensitive=*/true) && anyExact(c.apis, call.api) &&
         anyGlob(c.models, call.model);
}

}  // namespace shadowai
