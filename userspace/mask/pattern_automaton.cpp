#include "mask/pattern_automaton.h"

#include <algorithm>
#include <tuple>

namespace shadowai {

namespace {

using ByteSet = std::bitset<256>;

// In the over-approximating mode, repetitions up to this many copies are unrolled exactly; wider
// ones become x* / x+.
constexpr int kMaxApproximateUnroll = 4;

struct Node {
  enum class Kind { kBytes, kConcat, kAlt, kRepeat, kEmpty, kAssertion } kind = Kind::kEmpty;
  PatternAssertion assertion = PatternAssertion::kNone;
  ByteSet bytes;
  std::vector<Node> children;
  int min = 0;
  int max = -1;  // -1: unbounded
};

bool isWordByte(unsigned c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

ByteSet wordBytes() {
  ByteSet set;
  for (unsigned c = 0; c < 256; ++c) set[c] = isWordByte(c);
  return set;
}

ByteSet digitBytes() {
  ByteSet set;
  for (unsigned c = '0'; c <= '9'; ++c) set[c] = true;
  return set;
}

ByteSet spaceBytes() {
  ByteSet set;
  for (unsigned c : {' ', '\t', '\n', '\v', '\f', '\r'}) set[c] = true;
  return set;
}

void addOtherCase(ByteSet& set) {
  for (unsigned c = 'a'; c <= 'z'; ++c) {
    unsigned upper = c - 'a' + 'A';
    if (set[c] || set[upper]) set[c] = set[upper] = true;
  }
}

int hexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Recursive descent over the PCRE subset Vectorscan accepts; anything unexpected fails the parse
// (and the detector falls back to the sound, loose answer).
class Parser {
 public:
  Parser(std::string_view text, bool caseless) : text_(text), caseless_(caseless) {}

  std::optional<Node> parse() {
    if (text_.substr(0, 4) == "(?i)") {
      caseless_ = true;
      pos_ = 4;
    }
    auto node = parseAlternation();
    if (!node || pos_ != text_.size()) return std::nullopt;
    return node;
  }

 private:
  bool atEnd() const { return pos_ >= text_.size(); }
  char peek() const { return text_[pos_]; }

  Node bytesNode(ByteSet set) const {
    if (caseless_) addOtherCase(set);
    Node node;
    node.kind = Node::Kind::kBytes;
    node.bytes = set;
    return node;
  }

  static Node assertionNode(PatternAssertion assertion) {
    Node node;
    node.kind = Node::Kind::kAssertion;
    node.assertion = assertion;
    return node;
  }

  std::optional<Node> parseAlternation() {
    Node alt;
    alt.kind = Node::Kind::kAlt;
    while (true) {
      auto branch = parseConcatenation();
      if (!branch) return std::nullopt;
      alt.children.push_back(std::move(*branch));
      if (atEnd() || peek() != '|') break;
      ++pos_;
    }
    if (alt.children.size() == 1) return std::move(alt.children.front());
    return alt;
  }

  std::optional<Node> parseConcatenation() {
    Node concat;
    concat.kind = Node::Kind::kConcat;
    while (!atEnd() && peek() != '|' && peek() != ')') {
      auto item = parseQuantified();
      if (!item) return std::nullopt;
      concat.children.push_back(std::move(*item));
    }
    return concat;
  }

  // "{m}", "{m,}", "{m,n}"; nullopt (and no input consumed) when '{' is not a quantifier.
  std::optional<std::pair<int, int>> parseBraces() {
    size_t p = pos_ + 1;
    auto number = [&](int& value) {
      size_t begin = p;
      value = 0;
      while (p < text_.size() && text_[p] >= '0' && text_[p] <= '9' && p - begin < 6) {
        value = value * 10 + (text_[p++] - '0');
      }
      return p > begin;
    };
    int min = 0, max = 0;
    if (!number(min)) return std::nullopt;
    if (p < text_.size() && text_[p] == '}') {
      pos_ = p + 1;
      return std::pair{min, min};
    }
    if (p >= text_.size() || text_[p] != ',') return std::nullopt;
    ++p;
    if (p < text_.size() && text_[p] == '}') {
      pos_ = p + 1;
      return std::pair{min, -1};
    }
    if (!number(max) || p >= text_.size() || text_[p] != '}') return std::nullopt;
    pos_ = p + 1;
    return std::pair{min, max};
  }

  std::optional<Node> parseQuantified() {
    auto atom = parseAtom();
    if (!atom) return std::nullopt;
    while (!atEnd()) {
      int min = 0, max = -1;
      char c = peek();
      if (c == '*') {
        ++pos_;
      } else if (c == '+') {
        min = 1;
        ++pos_;
      } else if (c == '?') {
        max = 1;
        ++pos_;
      } else if (c == '{') {
        auto range = parseBraces();
        if (!range) break;
        std::tie(min, max) = *range;
        if (max != -1 && max < min) return std::nullopt;
      } else {
        break;
      }
      if (!atEnd() && (peek() == '?' || peek() == '+')) ++pos_;  // lazy/possessive: same language
      Node repeat;
      repeat.kind = Node::Kind::kRepeat;
      repeat.min = min;
      repeat.max = max;
      repeat.children.push_back(std::move(*atom));
      atom = std::move(repeat);
    }
    return atom;
  }

  std::optional<Node> parseAtom() {
    char c = peek();
    if (c == '(') {
      ++pos_;
      bool savedCaseless = caseless_;
      if (!atEnd() && peek() == '?') {
        if (text_.substr(pos_, 2) == "?:") {
          pos_ += 2;
        } else if (text_.substr(pos_, 3) == "?i:") {
          pos_ += 3;
          caseless_ = true;
        } else {
          return std::nullopt;  // look-around, named groups, inline flags: outside the subset
        }
      }
      auto inner = parseAlternation();
      caseless_ = savedCaseless;
      if (!inner || atEnd() || peek() != ')') return std::nullopt;
      ++pos_;
      return inner;
    }
    if (c == ')' || c == '*' || c == '+' || c == '?') return std::nullopt;
    ++pos_;
    if (c == '[') return parseClass();
    if (c == '.') {
      ByteSet all;
      all.set();
      all['\n'] = false;  // no HS_FLAG_DOTALL
      return bytesNode(all);
    }
    if (c == '^') return assertionNode(PatternAssertion::kTextStart);
    if (c == '$') return assertionNode(PatternAssertion::kTextEndOrFinalNewline);
    if (c == '\\') return parseEscape();
    ByteSet set;
    set[static_cast<unsigned char>(c)] = true;
    return bytesNode(set);
  }

  // After a backslash, outside a class.
  std::optional<Node> parseEscape() {
    if (atEnd()) return std::nullopt;
    char c = text_[pos_];
    switch (c) {
      case 'b': ++pos_; return assertionNode(PatternAssertion::kWordBoundary);
      case 'B': ++pos_; return assertionNode(PatternAssertion::kNotWordBoundary);
      case 'A': ++pos_; return assertionNode(PatternAssertion::kTextStart);
      case 'z': ++pos_; return assertionNode(PatternAssertion::kTextEnd);
      case 'Z': ++pos_; return assertionNode(PatternAssertion::kTextEndOrFinalNewline);
      case 'G': return std::nullopt;
      default: break;
    }
    auto set = parseEscapedSet();
    if (!set) return std::nullopt;
    return bytesNode(*set);
  }

  // After a backslash, the bytes an escape stands for (shared by classes and atoms).
  std::optional<ByteSet> parseEscapedSet() {
    char c = text_[pos_++];
    ByteSet set;
    switch (c) {
      case 'd': return digitBytes();
      case 'D': return ~digitBytes();
      case 'w': return wordBytes();
      case 'W': return ~wordBytes();
      case 's': return spaceBytes();
      case 'S': return ~spaceBytes();
      case 'n': set['\n'] = true; return set;
      case 'r': set['\r'] = true; return set;
      case 't': set['\t'] = true; return set;
      case 'f': set['\f'] = true; return set;
      case 'v': set['\v'] = true; return set;
      case 'e': set[0x1b] = true; return set;
      case 'a': set[0x07] = true; return set;
      case '0': set[0] = true; return set;
      case 'x': {
        int value = 0;
        if (!atEnd() && peek() == '{') {
          size_t close = text_.find('}', pos_);
          if (close == std::string_view::npos || close == pos_ + 1 || close - pos_ > 3) return std::nullopt;
          for (size_t i = pos_ + 1; i < close; ++i) {
            int digit = hexValue(text_[i]);
            if (digit < 0) return std::nullopt;
            value = value * 16 + digit;
          }
          pos_ = close + 1;
        } else {
          for (int i = 0; i < 2 && !atEnd() && hexValue(peek()) >= 0; ++i) value = value * 16 + hexValue(text_[pos_++]);
        }
        set[static_cast<unsigned>(value) & 0xff] = true;
        return set;
      }
      default:
        // Escaped punctuation is the byte itself; any other letter or digit (\p, \Q, \1, ...) is
        // outside the subset.
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return std::nullopt;
        set[static_cast<unsigned char>(c)] = true;
        return set;
    }
  }

  std::optional<Node> parseClass() {
    bool negated = false;
    if (!atEnd() && peek() == '^') {
      negated = true;
      ++pos_;
    }
    ByteSet set;
    bool firstItem = true;
    while (true) {
      if (atEnd()) return std::nullopt;
      char c = peek();
      if (c == ']' && !firstItem) {
        ++pos_;
        break;
      }
      firstItem = false;
      if (c == '[' && text_.substr(pos_, 2) == "[:") return std::nullopt;  // POSIX classes
      // One item: a byte (maybe the start of a range) or an escape standing for a set.
      std::optional<unsigned> low;
      if (c == '\\') {
        ++pos_;
        if (atEnd()) return std::nullopt;
        if (peek() == 'b') {
          ++pos_;
          low = 0x08;
        } else {
          auto escaped = parseEscapedSet();
          if (!escaped) return std::nullopt;
          if (escaped->count() != 1) {
            set |= *escaped;
            continue;
          }
          for (unsigned b = 0; b < 256; ++b) {
            if ((*escaped)[b]) low = b;
          }
        }
      } else {
        ++pos_;
        low = static_cast<unsigned char>(c);
      }
      unsigned high = *low;
      if (pos_ + 1 < text_.size() && peek() == '-' && text_[pos_ + 1] != ']') {
        ++pos_;
        char h = text_[pos_++];
        if (h == '\\') {
          if (atEnd()) return std::nullopt;
          auto escaped = parseEscapedSet();
          if (!escaped || escaped->count() != 1) return std::nullopt;
          for (unsigned b = 0; b < 256; ++b) {
            if ((*escaped)[b]) high = b;
          }
        } else {
          high = static_cast<unsigned char>(h);
        }
        if (high < *low) return std::nullopt;
      }
      for (unsigned b = *low; b <= high; ++b) set[b] = true;
    }
    if (caseless_) addOtherCase(set);
    if (negated) set = ~set;
    Node node;
    node.kind = Node::Kind::kBytes;
    node.bytes = set;  // case already folded before negation, as PCRE does
    return node;
  }

  std::string_view text_;
  size_t pos_ = 0;
  bool caseless_;
};

bool startsWithBoundary(const Node& node) {
  switch (node.kind) {
    case Node::Kind::kAssertion: return node.assertion == PatternAssertion::kWordBoundary;
    case Node::Kind::kConcat: return !node.children.empty() && startsWithBoundary(node.children.front());
    case Node::Kind::kAlt:
      for (const Node& child : node.children) {
        if (!startsWithBoundary(child)) return false;
      }
      return !node.children.empty();
    case Node::Kind::kRepeat: return node.min >= 1 && startsWithBoundary(node.children.front());
    default: return false;
  }
}

class Builder {
 public:
  struct Fragment {
    bool nullable = true;
    std::vector<uint32_t> first;
    std::vector<uint32_t> last;
  };

  Builder(AutomatonMode mode, size_t maxPositions) : mode_(mode), maxPositions_(maxPositions) {}

  bool failed = false;
  std::vector<PatternPosition> positions;

  Fragment build(const Node& node) {
    Fragment fragment;
    if (failed) return fragment;
    switch (node.kind) {
      case Node::Kind::kEmpty:
        return fragment;
      case Node::Kind::kAssertion:
        // Exact: a zero-width position checked where the path passes it. Over-approximate: dropped.
        if (mode_ == AutomatonMode::kOverApproximate) return fragment;
        return single(ByteSet(), node.assertion);
      case Node::Kind::kBytes:
        return single(node.bytes, PatternAssertion::kNone);
      case Node::Kind::kConcat:
        for (const Node& child : node.children) fragment = concat(std::move(fragment), build(child));
        return fragment;
      case Node::Kind::kAlt:
        fragment.nullable = false;
        for (const Node& child : node.children) {
          Fragment branch = build(child);
          fragment.nullable = fragment.nullable || branch.nullable;
          fragment.first.insert(fragment.first.end(), branch.first.begin(), branch.first.end());
          fragment.last.insert(fragment.last.end(), branch.last.begin(), branch.last.end());
        }
        return fragment;
      case Node::Kind::kRepeat:
        return repeat(node.children.front(), node.min, node.max);
    }
    return fragment;
  }

 private:
  Fragment single(const ByteSet& bytes, PatternAssertion assertion) {
    if (positions.size() >= maxPositions_) {
      failed = true;
      return {};
    }
    auto p = static_cast<uint32_t>(positions.size());
    PatternPosition& position = positions.emplace_back();
    position.bytes = bytes;
    position.assertion = assertion;
    return Fragment{false, {p}, {p}};
  }

  void link(const std::vector<uint32_t>& from, const std::vector<uint32_t>& to) {
    for (uint32_t l : from) {
      auto& follow = positions[l].follow;
      follow.insert(follow.end(), to.begin(), to.end());
    }
  }

  Fragment concat(Fragment left, Fragment right) {
    link(left.last, right.first);
    Fragment joined;
    joined.nullable = left.nullable && right.nullable;
    joined.first = std::move(left.first);
    if (left.nullable) joined.first.insert(joined.first.end(), right.first.begin(), right.first.end());
    joined.last = std::move(right.last);
    if (right.nullable) joined.last.insert(joined.last.end(), left.last.begin(), left.last.end());
    return joined;
  }

  Fragment loop(const Node& child, bool nullable) {
    Fragment body = build(child);
    link(body.last, body.first);
    body.nullable = body.nullable || nullable;
    return body;
  }

  Fragment repeat(const Node& child, int min, int max) {
    bool exact = mode_ == AutomatonMode::kExact;
    if (!exact && (max == -1 || max > kMaxApproximateUnroll)) return loop(child, min == 0);
    Fragment fragment;
    int required = min;
    if (max == -1) required = std::max(0, min - 1);  // the last required copy becomes x+
    for (int i = 0; i < required && !failed; ++i) fragment = concat(std::move(fragment), build(child));
    if (max == -1) return concat(std::move(fragment), loop(child, min == 0));
    // Optional copies nest, (x(x(x)?)?)?, so each copy links to the next and the exit only: a flat
    // x?x?x? would link every copy to every later one.
    Fragment optional;
    for (int i = 0; i < max - min && !failed; ++i) {
      optional = concat(build(child), std::move(optional));
      optional.nullable = true;
    }
    return concat(std::move(fragment), std::move(optional));
  }

  AutomatonMode mode_;
  size_t maxPositions_;
};

}  // namespace

std::optional<PatternAutomaton> buildPatternAutomaton(std::string_view expression, bool caseless, AutomatonMode mode,
                                                      size_t maxPositions) {
  auto root = Parser(expression, caseless).parse();
  if (!root) return std::nullopt;
  Builder builder(mode, maxPositions);
  Builder::Fragment fragment = builder.build(*root);
  if (builder.failed || builder.positions.empty()) return std::nullopt;
  PatternAutomaton automaton;
  automaton.positions = std::move(builder.positions);
  for (PatternPosition& position : automaton.positions) {
    std::sort(position.follow.begin(), position.follow.end());
    position.follow.erase(std::unique(position.follow.begin(), position.follow.end()), position.follow.end());
  }
  for (uint32_t l : fragment.last) automaton.positions[l].last = true;
  automaton.first = std::move(fragment.first);
  std::sort(automaton.first.begin(), automaton.first.end());
  automaton.first.erase(std::unique(automaton.first.begin(), automaton.first.end()), automaton.first.end());
  automaton.nullable = fragment.nullable;
  automaton.leadingWordBoundary = startsWithBoundary(*root);
  return automaton;
}

bool assertionHolds(PatternAssertion assertion, std::string_view text, size_t at) {
  switch (assertion) {
    case PatternAssertion::kNone: return true;
    case PatternAssertion::kWordBoundary:
    case PatternAssertion::kNotWordBoundary: {
      bool before = at > 0 && isWordByte(static_cast<unsigned char>(text[at - 1]));
      bool after = at < text.size() && isWordByte(static_cast<unsigned char>(text[at]));
      return (before != after) == (assertion == PatternAssertion::kWordBoundary);
    }
    case PatternAssertion::kTextStart: return at == 0;
    case PatternAssertion::kTextEnd: return at == text.size();
    case PatternAssertion::kTextEndOrFinalNewline:
      return at == text.size() || (at + 1 == text.size() && text[at] == '\n');
  }
  return false;
}

}  // namespace shadowai
