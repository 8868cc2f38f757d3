// What the OpenAI API shapes (chat, responses, completions, embeddings; Azure and OpenAI-compatible
// hosts) have in common: model and stream flag, roles, content parts, and the `[DONE]` stream end.
#pragma once

#include <string_view>
#include <vector>

#include "providers/json_text.h"
#include "providers/sse_event.h"

namespace shadowai {

// Model from the Azure deployment in the path when there is one (Azure ignores the body's), else the
// body's "model"; streaming from "stream": true.
void readOpenAiModelAndStream(std::string_view target, const Json& body, ParsedRequest& request);

// system | user | assistant | tool. "developer" is the newer name of "system"; "function" the older of
// "tool"; anything else is treated as user input, the side that needs masking most.
std::string_view openAiRole(const Json& message);

// A message content: a string, null, or an array of parts whose text sits in "text" (text,
// input_text, output_text) or "refusal". Other parts (images, audio, files) carry no text.
Status addOpenAiContent(std::vector<TextSegment>& out, std::string_view role, const Json& content,
                        const JsonPointer& at, std::string_view what);

// The array member `key` of `object`, or an error naming where it is; a missing member is an empty
// array when `required` is false.
Result<const Json*> arrayMember(const Json& object, std::string_view key, const JsonPointer& at,
                                std::string_view what, bool required);

// `data: [DONE]`, the end of an OpenAI chat or completions stream.
bool isOpenAiDone(const SseEvent& event);


// A text input that is a string or an array of strings ("prompt" of completions, "input" of
// embeddings). Arrays of token ids are already tokenized and hold no text we can read: skipped.
Status addStringOrStrings(std::vector<TextSegment>& out, std::string_view role, const Json& holder,
                          std::string_view key, std::string_view what);

}  // namespace shadowai
