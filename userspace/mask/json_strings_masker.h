// Masking a JSON body no adapter understands (a provider's error, an API shadowai does not model):
// every string value in it (to the adapters' depth bound) is masked on its decoded text and spliced
// back, the rest byte for byte. Used for answers, where what matters is that no detected value
// reaches the client, whatever the shape.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "common/result.h"
#include "mask/text_masker.h"

namespace shadowai {

// nullopt: nothing was masked (the original bytes may go out). An error when BODY is not JSON (the
// caller decides what else to do) or cannot be rewritten.
Result<std::optional<std::string>> maskJsonStrings(std::string_view body, TextMasker& masker, MaskSite site);

}  // namespace shadowai
