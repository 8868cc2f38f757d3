#include "net/request_target.h"

#include <boost/url/encoding_opts.hpp>
#include <boost/url/parse.hpp>
#include <boost/url/url_view.hpp>

namespace shadowai {
namespace {

namespace urls = boost::urls;

// How servers decode a query string (application/x-www-form-urlencoded): '+' is a space.
urls::encoding_opts queryDecoding() {
  urls::encoding_opts options;
  options.space_as_plus = true;
  return options;
}

}  // namespace

std::optional<RequestTarget> parseRequestTarget(std::string_view target) {
  auto parsed = urls::parse_origin_form(target);
  if (!parsed) return std::nullopt;
  return RequestTarget{parsed->encoded_path(), parsed->encoded_query()};
}

std::string_view requestPath(std::string_view target) {
  auto parsed = parseRequestTarget(target);
  return parsed ? parsed->path : std::string_view();
}

std::optional<QueryRemoval> removeQueryParameters(std::string_view target,
                                                  const std::function<bool(std::string_view name)>& shouldRemove) {
  auto parsed = urls::parse_origin_form(target);
  if (!parsed) return std::nullopt;
  QueryRemoval result;
  std::string kept;
  bool first = true;
  for (const urls::param_pct_view& parameter : parsed->encoded_params()) {
    std::string name = parameter.key.decode(queryDecoding());
    if (shouldRemove(name)) {
      std::string value = parameter.has_value ? parameter.value.decode(queryDecoding()) : std::string();
      result.removed.push_back({std::move(name), std::move(value)});
      continue;
    }
    // Rebuilt by hand rather than with urls::url, which re-encodes and would turn "/" into "/./":
    // what is kept goes upstream exactly as the client wrote it.
    if (!first) kept += '&';
    kept += parameter.key;
    if (parameter.has_value) {
      kept += '=';
      kept += parameter.value;
    }
    first = false;
  }
  result.target = parsed->encoded_path();
  if (result.removed.empty()) {
    result.target = target;
  } else if (!kept.empty()) {
    result.target += '?';
    result.target += kept;
  }
  return result;
}

}  // namespace shadowai
