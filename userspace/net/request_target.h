// The request target of an HTTP request, the one place it is split into path and query: parsed in
// origin form ("/path?query", RFC 9112 section 3.2.1) by Boost.URL, which holds it to RFC 3986.
//
// Strict on purpose. A target Boost.URL refuses (a malformed %-escape, a fragment, a character RFC
// 3986 does not allow unencoded, such as '|' or '[') is one the proxy and the provider could read
// differently, so interception refuses it rather than guess (intercept_session.cpp).
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace shadowai {

struct RequestTarget {
  std::string_view path;   // percent-encoded as sent; starts with '/'
  std::string_view query;  // percent-encoded, after the '?'; empty when there is none
};

// The path and query of TARGET; nullopt when it is not in origin form (absolute form, "*", empty,
// or anything RFC 3986 refuses). The views point into TARGET.
std::optional<RequestTarget> parseRequestTarget(std::string_view target);

// The path of TARGET, "" when it does not parse. What routing and records use: the query can hold
// a key. (No adapter routes on "", and the session refuses such a request before anything goes
// upstream.)
std::string_view requestPath(std::string_view target);

// A query parameter taken out of a target, decoded as servers decode query strings (%XX, and '+'
// for a space). The value can be a secret: its holder wipes it.
struct RemovedQueryParameter {
  std::string name;
  std::string value;
};

struct QueryRemoval {
  std::string target;  // the target without the removed parameters (and without '?' if none is left)
  std::vector<RemovedQueryParameter> removed;
};

// Takes out of TARGET every query parameter whose decoded name SHOULD_REMOVE accepts; the others
// keep their exact spelling and order. nullopt when TARGET does not parse (parseRequestTarget).
std::optional<QueryRemoval> removeQueryParameters(std::string_view target,
                                                  const std::function<bool(std::string_view name)>& shouldRemove);

}  // namespace shadowai
