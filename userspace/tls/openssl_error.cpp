#include "tls/openssl_error.h"

#include <openssl/err.h>

namespace shadowai {

Error openSslError(const std::string& what) {
  // The earliest queued entry is the root cause; later ones are callers adding context.
  unsigned long code = ERR_get_error();
  ERR_clear_error();
  if (code == 0) return makeError(what + ": unknown OpenSSL error");
  char reason[256];
  ERR_error_string_n(code, reason, sizeof(reason));
  return makeError(what + ": " + reason);
}

}  // namespace shadowai
