#include "intercept/refusal_response.h"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>

namespace shadowai {

namespace http = boost::beast::http;
namespace asio = boost::asio;

std::string refusalMessage(std::string_view reason) { return "shadowai refused this call: " + std::string(reason); }

asio::awaitable<bool> writeRefusal(ClientStream& client, const ProviderAdapter& adapter, unsigned status,
                                   std::string_view reason, bool keepAlive) {
  http::response<http::string_body> response{static_cast<http::status>(status), 11};
  response.set(http::field::content_type, adapter.errorContentType());
  response.set("x-shadowai-refused", "true");
  response.body() = adapter.errorBody(static_cast<int>(status), refusalMessage(reason));
  response.keep_alive(keepAlive);
  response.prepare_payload();
  auto [error, written] = co_await http::async_write(client, response, asio::as_tuple(asio::use_awaitable));
  co_return !error;
}

}  // namespace shadowai
