#include "intercept/upstream_tls_context.h"

#include <openssl/ssl.h>

#include "tls/openssl_error.h"

namespace shadowai {

namespace ssl = boost::asio::ssl;

Result<std::shared_ptr<ssl::context>> makeUpstreamTlsContext(const std::string& caBundle) {
  auto context = std::make_shared<ssl::context>(ssl::context::tls_client);
  SSL_CTX* native = context->native_handle();
  if (SSL_CTX_set_min_proto_version(native, TLS1_2_VERSION) != 1) {
    return openSslError("cannot require TLS 1.2 for upstream connections");
  }
  // Renegotiation is a known attack surface and no provider needs it. Idle pooled connections
  // give their read and write buffers back (about 34 KiB each) until they are used again.
  SSL_CTX_set_options(native, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION);
  SSL_CTX_set_mode(native, SSL_MODE_RELEASE_BUFFERS);
  // Offering only http/1.1 keeps a server from switching to h2, which the interception cannot parse.
  static constexpr unsigned char kAlpn[] = "\x08http/1.1";
  if (SSL_CTX_set_alpn_protos(native, kAlpn, sizeof kAlpn - 1) != 0) {  // 0 is success here
    return openSslError("cannot set ALPN for upstream connections");
  }
  SSL_CTX_set_verify(native, SSL_VERIFY_PEER, nullptr);
  if (caBundle.empty()) {
    if (SSL_CTX_set_default_verify_paths(native) != 1) {
      return openSslError("cannot load the system trust store for upstream connections");
    }
  } else if (SSL_CTX_load_verify_file(native, caBundle.c_str()) != 1) {
    return openSslError("cannot load the upstream CA bundle " + caBundle);
  }
  return context;
}

}  // namespace shadowai
