// Text a user or a peer sent, made safe to quote in a one-line message: it may reach a terminal or
// the journal, so bytes outside printable ASCII are shown as \xNN.
#pragma once

#include <string>
#include <string_view>

namespace shadowai {

std::string printableText(std::string_view text);

}  // namespace shadowai
