#include "intercept/http_headers.h"

#include <boost/algorithm/string/case_conv.hpp>
#include <boost/algorithm/string/predicate.hpp>
#include <boost/algorithm/string/trim.hpp>
#include <iterator>
#include <string>
#include <vector>

namespace shadowai {

namespace http = boost::beast::http;

std::string requestFramingProblem(const http::fields& fields, unsigned version) {
  auto range = fields.equal_range(http::field::transfer_encoding);
  if (range.first == range.second) return "";
  if (version < 11) return "an HTTP/1.0 request must not carry Transfer-Encoding";
  size_t codings = 0;
  bool onlyChunked = true;
  for (; range.first != range.second; ++range.first) {
    std::string_view value = range.first->value();
    while (true) {
      const size_t comma = value.find(',');
      std::string coding(value.substr(0, comma));
      boost::algorithm::trim(coding);
      // Empty list elements are allowed (RFC 9110 section 5.6.1) and count for nothing.
      if (!coding.empty()) {
        ++codings;
        onlyChunked = onlyChunked && boost::algorithm::iequals(coding, "chunked");
      }
      if (comma == std::string_view::npos) break;
      value.remove_prefix(comma + 1);
    }
  }
  if (codings != 1 || !onlyChunked) {
    return "the request's Transfer-Encoding must be exactly \"chunked\" (chunked last, once, and no other coding)";
  }
  return "";
}

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

namespace {

std::string mediaTypeOf(std::string_view contentType) {
  std::string mediaType(contentType.substr(0, contentType.find(';')));
  boost::algorithm::trim(mediaType);
  boost::algorithm::to_lower(mediaType);
  return mediaType;
}

}  // namespace

bool isTextual(std::string_view contentType) {
  const std::string mediaType = mediaTypeOf(contentType);
  return mediaType.empty() || mediaType.starts_with("text/") || mediaType == "application/json" ||
         (mediaType.starts_with("application/") && mediaType.ends_with("+json"));
}

bool isIdentityEncoded(std::string_view contentEncoding) {
  std::string encoding(contentEncoding);
  boost::algorithm::trim(encoding);
  return encoding.empty() || boost::algorithm::iequals(encoding, "identity");
}

std::string misdirectionOf(const http::fields& fields, std::string_view target, std::string_view serverName) {
  if (target.empty() || target.front() != '/') return "the request target is not a path on " + std::string(serverName);
  auto hosts = fields.equal_range(http::field::host);
  if (hosts.first == hosts.second) return "the request has no Host header";
  if (std::next(hosts.first) != hosts.second) return "the request has more than one Host header";
  std::string_view host = hosts.first->value();
  if (host.size() > 4 && host.substr(host.size() - 4) == ":443") host.remove_suffix(4);
  if (!boost::algorithm::iequals(host, serverName)) {
    return "the request's Host header does not name " + std::string(serverName) + ", the server name of the connection";
  }
  return "";
}

}  // namespace shadowai
