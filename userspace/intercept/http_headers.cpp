#include "intercept/http_headers.h"

#include <boost/algorithm/string/predicate.hpp>
#include <boost/algorithm/string/trim.hpp>
#include <string>
#include <vector>

namespace shadowai {

namespace http = boost::beast::http;

void removeHopByHopFields(http::fields& fields) {
  // The fields the Connection header lists are hop-by-hop too.
  std::vector<std::string> listed;
  for (auto range = fields.equal_range(http::field::connection); range.first != range.second; ++range.first) {
    std::string_view value = range.first->value();
    while (!value.empty()) {
      const size_t comma = value.find(',');
      std::string name(value.substr(0, comma));
      boost::algorithm::trim(name);
      if (!name.empty()) listed.push_back(std::move(name));
      value = comma == std::string_view::npos ? std::string_view() : value.substr(comma + 1);
    }
  }
  for (const std::string& name : listed) fields.erase(name);
  for (http::field field : {http::field::connection, http::field::keep_alive, http::field::proxy_connection,
                            http::field::te, http::field::trailer, http::field::upgrade,
                            http::field::transfer_encoding, http::field::content_length, http::field::expect}) {
    fields.erase(field);
  }
}

bool isEventStream(std::string_view contentType) {
  const std::string_view mediaType = contentType.substr(0, contentType.find(';'));
  std::string trimmed(mediaType);
  boost::algorithm::trim(trimmed);
  return boost::algorithm::iequals(trimmed, "text/event-stream");
}

std::string_view pathOf(std::string_view target) { return target.substr(0, target.find('?')); }

}  // namespace shadowai
