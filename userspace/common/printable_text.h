// Text a user, a peer or a file sent, made safe to quote in a one-line message: it may reach a
// terminal or the journal, so bytes outside printable ASCII are shown as \xNN.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace shadowai {

std::string printableText(std::string_view text);

// How many bytes printableText writes for C (1, or 4 for "\xNN"): what a caller that cuts long
// text to a budget (printableExcerpt) counts, so its arithmetic and the escaping cannot disagree.
size_t printableSize(unsigned char c);

}  // namespace shadowai
