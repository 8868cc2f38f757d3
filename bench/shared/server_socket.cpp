#include "shared/server_socket.h"

#include <openssl/ssl.h>

#include <string>

namespace shadowai::bench {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

Status useServerCertificate(asio::ssl::context& tls, const test::LeafFiles& leaf) {
  boost::system::error_code error;
  tls.use_certificate_chain_file(leaf.certPath, error);
  if (!error) tls.use_private_key_file(leaf.keyPath, asio::ssl::context::pem, error);
  if (error) return makeError("server certificate: " + error.message());
  SSL_CTX_set_min_proto_version(tls.native_handle(), TLS1_2_VERSION);
  return {};
}

Status listenOn(tcp::acceptor& acceptor, const char* address, uint16_t port, int backlog) {
  boost::system::error_code error;
  const tcp::endpoint endpoint(asio::ip::make_address_v4(address, error), port);
  if (!error) acceptor.open(endpoint.protocol(), error);
  if (!error) acceptor.set_option(tcp::acceptor::reuse_address(true), error);
  if (!error) acceptor.bind(endpoint, error);
  if (!error) acceptor.listen(backlog, error);
  if (error) return makeError(std::string("cannot listen on ") + address + ":" + std::to_string(port) + ": " + error.message());
  return {};
}

}  // namespace shadowai::bench
