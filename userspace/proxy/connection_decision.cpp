#include "proxy/connection_decision.h"

namespace shadowai {

const char* toString(ConnectionVerdict verdict) {
  switch (verdict) {
    case ConnectionVerdict::kSplice:
      return "splice";
    case ConnectionVerdict::kIntercept:
      return "intercept";
    case ConnectionVerdict::kRefuse:
      return "refuse";
  }
  return "unknown";
}

}  // namespace shadowai
