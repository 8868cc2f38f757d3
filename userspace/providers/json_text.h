// Shared pieces of the adapters: parsing a body into JSON with a one-line error, and collecting the
// string values that hold prompt or generated text together with their JSON pointers.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/result.h"
#include "providers/provider_call.h"

namespace shadowai {

using Json = nlohmann::json;
using JsonPointer = nlohmann::json::json_pointer;

// What an error message names as the place of a problem.
inline constexpr std::string_view kRequestBody = "request body";
inline constexpr std::string_view kResponseBody = "response body";
inline constexpr std::string_view kStreamEvent = "stream event";

// `what` names the body in the error ("request body", "response body", "stream event").
Result<Json> parseJson(std::string_view body, std::string_view what);
// As parseJson, and the top level must be an object.
Result<Json> parseJsonObject(std::string_view body, std::string_view what);

// "request body: /messages/2/content is not a string or an array"
Error shapeError(std::string_view what, const JsonPointer& at, std::string_view expectation);

// Appends `value` as a segment when it is a non-empty string (empty strings hold nothing to mask).
void addText(std::vector<TextSegment>& out, std::string_view role, const Json& value, const JsonPointer& at);
// The member `key` of `object` when it exists (object may be of any type).
void addMember(std::vector<TextSegment>& out, std::string_view role, const Json& object, std::string_view key,
               const JsonPointer& at);
// Every string inside `value` (object members and array elements, to a bounded depth), for free-form
// JSON such as tool arguments and tool results. Too deep is an error: text we cannot see cannot be masked.
Status addStringLeaves(std::vector<TextSegment>& out, std::string_view role, const Json& value,
                       const JsonPointer& at, std::string_view what);

// A non-negative integer member, else nullopt (absent, null or another type).
std::optional<uint64_t> unsignedMember(const Json& object, std::string_view key);
// Usage from two members of `object` (which may be absent or null); nullopt when neither is there.
std::optional<Usage> usageFrom(const Json& object, std::string_view inputKey, std::string_view outputKey);

// The member `key` of `object`, or a null value when `object` is not an object or lacks it.
const Json& memberOrNull(const Json& object, std::string_view key);

// A string member, or empty.
std::string stringMember(const Json& object, std::string_view key);
bool trueMember(const Json& object, std::string_view key);

// Gives the segments from index `from` on the stream channel `channel`.
void setChannel(std::vector<TextSegment>& out, size_t from, const std::string& channel);
// The decimal value of the non-negative integer member `key` ("index", "output_index"), else `fallback`.
std::string indexMember(const Json& object, std::string_view key, std::string_view fallback);

// The pointer `at` extended by a member name or an index.
inline JsonPointer child(const JsonPointer& at, std::string_view key) { return at / std::string(key); }
inline JsonPointer child(const JsonPointer& at, size_t index) { return at / index; }

}  // namespace shadowai
