// What FakeProvider answers: the request's path and JSON body pick the provider's shape, plain or
// streamed. Pure functions, separate from the server so they stay short and testable on their own.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "support/tls_server.h"

namespace shadowai::test::fake_provider {

struct Answer {
  unsigned status = 200;
  std::string contentType = "application/json";
  std::vector<std::pair<std::string, std::string>> headers;
  bool streamed = false;
  std::string body;                 // when !streamed
  std::vector<std::string> events;  // when streamed: each one write, framed as the provider frames it
};

// The answer to REQUEST that carries TEXT; SEQUENCE makes the ids in it unique.
Answer generateAnswer(const RecordedRequest& request, const std::string& text, uint64_t sequence);

// Where a test wants a stream's deltas to break: an answer text holding this character streams in
// the pieces between them (the character itself is not sent), so a value can be split mid-word.
inline constexpr char kPieceBreak = '\x1f';

// TEXT a word at a time, each word with the whitespace before the next: "Hello ", "from ", ...; or,
// when TEXT holds kPieceBreak, the pieces between the breaks.
std::vector<std::string> splitIntoPieces(const std::string& text);
// TEXT without its kPieceBreak characters: the answer as a whole.
std::string withoutPieceBreaks(const std::string& text);

}  // namespace shadowai::test::fake_provider
