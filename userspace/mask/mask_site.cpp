#include "mask/text_masker.h"

namespace shadowai {

std::string_view toString(MaskSite site) {
  switch (site) {
    case MaskSite::kRequest: return "request";
    case MaskSite::kResponse: return "response";
  }
  return "request";
}

}  // namespace shadowai
