#include "intercept/client_tls_context.h"

#include <openssl/ssl.h>

#include <algorithm>

#include "tls/openssl_error.h"

namespace shadowai {

namespace {

constexpr unsigned char kHttp11[] = {'h', 't', 't', 'p', '/', '1', '.', '1'};

int selectHttp11(SSL*, const unsigned char** out, unsigned char* outLength, const unsigned char* offered,
                 unsigned int offeredLength, void*) {
  // OFFERED is a list of length-prefixed protocol names.
  for (unsigned int at = 0; at < offeredLength;) {
    const unsigned int length = offered[at];
    if (at + 1 + length > offeredLength) break;
    if (length == sizeof kHttp11 && std::equal(kHttp11, kHttp11 + sizeof kHttp11, offered + at + 1)) {
      *out = offered + at + 1;
      *outLength = static_cast<unsigned char>(length);
      return SSL_TLSEXT_ERR_OK;
    }
    at += 1 + length;
  }
  return SSL_TLSEXT_ERR_NOACK;
}

}  // namespace

Result<std::shared_ptr<boost::asio::ssl::context>> makeClientFacingTlsContext() {
  auto context = std::make_shared<boost::asio::ssl::context>(boost::asio::ssl::context::tls_server);
  SSL_CTX* native = context->native_handle();
  if (SSL_CTX_set_min_proto_version(native, TLS1_2_VERSION) != 1) {
    return openSslError("client TLS context: cannot make TLS 1.2 the minimum");
  }
  SSL_CTX_set_options(native, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE);
  // Every connection is a fresh handshake: no session cache or tickets to keep, rotate or leak.
  SSL_CTX_set_session_cache_mode(native, SSL_SESS_CACHE_OFF);
  SSL_CTX_set_options(native, SSL_OP_NO_TICKET);
  SSL_CTX_set_num_tickets(native, 0);
  SSL_CTX_set_alpn_select_cb(native, selectHttp11, nullptr);
  return context;
}

}  // namespace shadowai
