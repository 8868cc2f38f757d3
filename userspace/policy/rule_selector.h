// Whether a rule's `match` selects a call: every field given must match (AND), any value of a
// field's list may (OR). A fact the daemon does not know (no unit, no uid) matches no value, so a
// rule for `"unit": ["*"]` means "calls from some unit", never "any call".
#pragma once

#include <string_view>

#include "policy/policy.h"
#include "policy/policy_rule.h"

namespace shadowai {

bool selectorMatches(const RuleSelector& selector, const WorkloadFacts& workload, const CallFacts& call);

// PREFIX is a cgroup path prefix of PATH on '/' boundaries: "/system.slice" (or "/system.slice/")
// matches "/system.slice" and "/system.slice/x.service", not "/system.slicex".
bool cgroupPrefixMatches(std::string_view prefix, std::string_view path);

// fnmatch(3) glob ('*', '?', [...]); '*' crosses '/' so "/usr/bin/python3*" matches any python3.x.
bool globMatches(const std::string& pattern, const std::string& value, bool caseInsensitive = false);

}  // namespace shadowai
