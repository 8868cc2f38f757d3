// Policy's private state, shared by its loading (policy.cpp) and its evaluation
// (policy_evaluation.cpp).
#pragma once

#include <filesystem>
#include <vector>

#include "policy/policy.h"
#include "policy/policy_resolver.h"

namespace shadowai {

struct Policy::Impl {
  std::vector<std::filesystem::path> files;
  CompiledPolicy compiled;
};

}  // namespace shadowai
