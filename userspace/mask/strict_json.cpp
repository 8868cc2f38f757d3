#include "mask/strict_json.h"

#include <string>
#include <unordered_set>
#include <vector>

#include "common/json_nesting.h"

namespace shadowai {

namespace {

using Json = nlohmann::json;

// A SAX pass that only watches object keys: one set per open object, so "te\u0078t" and "text"
// (decoded alike by the lexer) count as the same key, as they do for every JSON reader. nlohmann's
// callback parser would do this on the way to the DOM, but it scans an object's whole parent on
// every object end: 100 000 "{}" in one array took 25 s. This pass is linear.
class DuplicateKeyWatch final : public nlohmann::json_sax<Json> {
 public:
  bool duplicate = false;

  bool null() override { return true; }
  bool boolean(bool) override { return true; }
  bool number_integer(number_integer_t) override { return true; }
  bool number_unsigned(number_unsigned_t) override { return true; }
  bool number_float(number_float_t, const string_t&) override { return true; }
  bool string(string_t&) override { return true; }
  bool binary(binary_t&) override { return true; }
  bool start_object(std::size_t) override {
    openObjects_.emplace_back();
    return true;
  }
  bool key(string_t& name) override {
    if (!openObjects_.back().insert(name).second) duplicate = true;
    return !duplicate;  // stop at the first: the body is refused whatever follows
  }
  bool end_object() override {
    openObjects_.pop_back();
    return true;
  }
  bool start_array(std::size_t) override { return true; }
  bool end_array() override { return true; }
  bool parse_error(std::size_t position, const std::string&, const nlohmann::detail::exception&) override {
    errorAt = position;
    return false;
  }

  std::size_t errorAt = 0;  // the byte a syntax error was found at (from 1), 0: none

 private:
  std::vector<std::unordered_set<std::string>> openObjects_;
};

}  // namespace

Result<nlohmann::json> parseJsonRefusingDuplicateKeys(std::string_view body, std::string_view what) {
  if (jsonNestsDeeperThan(body)) return makeError(jsonTooDeepMessage(what));
  // nlohmann's lexer takes a NUL byte for the end of its input (json_text.cpp, parseJson).
  if (const size_t nul = body.find('\0'); nul != std::string_view::npos) {
    return makeError(std::string(what) + " is not valid JSON (at byte " + std::to_string(nul + 1) + ")");
  }
  DuplicateKeyWatch watch;
  const bool clean = Json::sax_parse(body, &watch);
  if (watch.duplicate) return makeError(std::string(what) + " has an object with a duplicate key");
  if (!clean) return makeError(std::string(what) + " is not valid JSON (at byte " + std::to_string(watch.errorAt) + ")");
  try {
    return Json::parse(body);
  } catch (const Json::parse_error& error) {
    return makeError(std::string(what) + " is not valid JSON (at byte " + std::to_string(error.byte) + ")");
  } catch (const Json::exception&) {
    return makeError(std::string(what) + " is not valid JSON (a number is out of range)");
  }
}

}  // namespace shadowai
