#include "mask/match_validators.h"

#include <arpa/inet.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <string>

namespace shadowai {

namespace {

bool isDigit(char c) { return c >= '0' && c <= '9'; }
bool isUpper(char c) { return c >= 'A' && c <= 'Z'; }
bool isLower(char c) { return c >= 'a' && c <= 'z'; }

// Decodes base64url (or base64) without padding into OUT; false on a character outside the alphabet.
bool decodeBase64Url(std::string_view in, std::string& out) {
  out.clear();
  uint32_t buffer = 0;
  int bits = 0;
  for (char c : in) {
    int value;
    if (isUpper(c)) value = c - 'A';
    else if (isLower(c)) value = c - 'a' + 26;
    else if (isDigit(c)) value = c - '0' + 52;
    else if (c == '-' || c == '+') value = 62;
    else if (c == '_' || c == '/') value = 63;
    else if (c == '=') break;
    else return false;
    buffer = (buffer << 6) | static_cast<uint32_t>(value);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((buffer >> bits) & 0xff));
    }
  }
  return true;
}

bool looksLikeJsonObject(std::string_view text) {
  auto notSpace = [](char c) { return c != ' ' && c != '\t' && c != '\r' && c != '\n'; };
  auto first = std::find_if(text.begin(), text.end(), notSpace);
  auto last = std::find_if(text.rbegin(), text.rend(), notSpace);
  return first != text.end() && *first == '{' && *last == '}';
}

std::string lowerCopy(std::string_view text) {
  std::string lower(text);
  for (char& c : lower) {
    if (isUpper(c)) c = static_cast<char>(c - 'A' + 'a');
  }
  return lower;
}

}  // namespace

bool luhnValid(std::string_view text) {
  int sum = 0;
  int count = 0;
  bool allSame = true;
  char firstDigit = 0;
  for (auto it = text.rbegin(); it != text.rend(); ++it) {
    char c = *it;
    if (c == ' ' || c == '-') continue;
    if (!isDigit(c)) return false;
    if (count == 0) firstDigit = c;
    allSame = allSame && c == firstDigit;
    int digit = c - '0';
    if (count % 2 == 1) {
      digit *= 2;
      if (digit > 9) digit -= 9;
    }
    sum += digit;
    ++count;
  }
  // "0000 0000 0000 0000" passes the checksum but is a placeholder, not a card.
  return count >= 13 && count <= 19 && !allSame && sum % 10 == 0;
}

bool ibanChecksumValid(std::string_view text) {
  std::string iban;
  for (char c : text) {
    if (c == ' ') continue;
    if (!isDigit(c) && !isUpper(c)) return false;
    iban.push_back(c);
  }
  if (iban.size() < 15 || iban.size() > 34) return false;
  if (!isUpper(iban[0]) || !isUpper(iban[1]) || !isDigit(iban[2]) || !isDigit(iban[3])) return false;
  // ISO 13616: move the country code and check digits to the end, letters become 10..35, mod 97 == 1.
  std::rotate(iban.begin(), iban.begin() + 4, iban.end());
  unsigned remainder = 0;
  for (char c : iban) {
    if (isDigit(c)) {
      remainder = (remainder * 10 + static_cast<unsigned>(c - '0')) % 97;
    } else {
      unsigned value = static_cast<unsigned>(c - 'A' + 10);
      remainder = (remainder * 100 + value) % 97;
    }
  }
  return remainder == 1;
}

bool usSsnValid(std::string_view text) {
  // Dashes or spaces, the same both times ("273 18 5011"; "273-18 5011" is not how one is written).
  if (text.size() != 11 || (text[3] != '-' && text[3] != ' ') || text[6] != text[3]) return false;
  int area = 0, group = 0, serial = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    if (i == 3 || i == 6) continue;
    if (!isDigit(text[i])) return false;
    int digit = text[i] - '0';
    if (i < 3) area = area * 10 + digit;
    else if (i < 6) group = group * 10 + digit;
    else serial = serial * 10 + digit;
  }
  return area != 0 && area != 666 && area < 900 && group != 0 && serial != 0;
}

bool ipv4Valid(std::string_view text) {
  int parts = 0;
  size_t i = 0;
  while (i <= text.size()) {
    size_t end = text.find('.', i);
    if (end == std::string_view::npos) end = text.size();
    std::string_view part = text.substr(i, end - i);
    if (part.empty() || part.size() > 3) return false;
    if (part.size() > 1 && part[0] == '0') return false;  // "010" is octal to some parsers: not an address
    int value = 0;
    for (char c : part) {
      if (!isDigit(c)) return false;
      value = value * 10 + (c - '0');
    }
    if (value > 255) return false;
    ++parts;
    i = end + 1;
    if (end == text.size()) break;
  }
  return parts == 4;
}

bool ipv6Valid(std::string_view text) {
  if (text.size() < 2 || text.size() > 45) return false;
  std::string copy(text);
  unsigned char address[16];
  return inet_pton(AF_INET6, copy.c_str(), address) == 1;
}

bool jwtValid(std::string_view token) {
  size_t firstDot = token.find('.');
  if (firstDot == std::string_view::npos) return false;
  size_t secondDot = token.find('.', firstDot + 1);
  if (secondDot == std::string_view::npos) return false;
  std::string decoded;
  if (!decodeBase64Url(token.substr(0, firstDot), decoded) || !looksLikeJsonObject(decoded)) return false;
  return decodeBase64Url(token.substr(firstDot + 1, secondDot - firstDot - 1), decoded) &&
         looksLikeJsonObject(decoded);
}

bool highEntropyValid(std::string_view value) {
  if (value.size() < 8) return false;
  int lower = 0, upper = 0, digit = 0, other = 0;
  std::array<int, 256> counts{};
  for (char c : value) {
    if (isLower(c)) ++lower;
    else if (isUpper(c)) ++upper;
    else if (isDigit(c)) ++digit;
    else if (c != '-' && c != '_' && c != '.') ++other;  // word separators: "kebab-case" is still words
    ++counts[static_cast<unsigned char>(c)];
  }
  // A word, a number or a constant name is not a credential: ask for letters mixed with digits or
  // symbols.
  if (lower + upper == 0 || digit + other == 0) return false;
  // Values that reference or stand in for a secret rather than being one.
  if (value.front() == '$' || value.front() == '%' || value.front() == '<' || value.front() == '[') return false;
  // Placeholders are short; in a long generated value (a 2 KB session token) "xXxX" is chance, and
  // the value must not pass for it.
  std::string lowered = lowerCopy(value);
  static constexpr std::string_view kPlaceholders[] = {
      "xxxx", "****", "...", "${", "{{", "your_", "your-", "changeme", "example", "placeholder",
      "redacted", "dummy", "password123", "<", ">"};
  for (std::string_view marker : kPlaceholders) {
    if (value.size() <= 64 && lowered.find(marker) != std::string::npos) return false;
  }
  double entropy = 0;
  for (int count : counts) {
    if (count == 0) continue;
    double p = static_cast<double>(count) / static_cast<double>(value.size());
    entropy -= p * std::log2(p);
  }
  // "aaaa1111": too repetitive to be a generated secret.
  return entropy >= 2.5;
}

bool notPlaceholderValid(std::string_view token) {
  // Documentation and templates write keys as their prefix and a run of one character; a generated
  // key never repeats one character for half its length. (AWS's own documented example,
  // AKIAIOSFODNN7EXAMPLE, is masked all the same: harmless either way.)
  size_t longest = 0;
  size_t run = 0;
  for (size_t i = 0; i < token.size(); ++i) {
    run = i > 0 && token[i] == token[i - 1] ? run + 1 : 1;
    longest = std::max(longest, run);
  }
  return !(longest >= 8 && longest * 2 >= token.size());
}

bool basicCredentialsValid(std::string_view header) {
  size_t space = header.find_first_of(" \t");
  if (space == std::string_view::npos) return false;
  std::string_view encoded = header.substr(header.find_first_not_of(" \t", space));
  // Basic is standard base64: a '-' or '_' makes it some other word ("Basic test_cases_for_parsing").
  if (encoded.find_first_of("-_") != std::string_view::npos) return false;
  std::string decoded;
  if (!decodeBase64Url(encoded, decoded)) return false;
  size_t colon = decoded.find(':');
  if (colon == std::string::npos || colon + 1 == decoded.size()) return false;
  return std::all_of(decoded.begin(), decoded.end(), [](char c) { return c >= 0x20 && c != 0x7f; });
}

bool passwordValueValid(std::string_view value) {
  if (value.empty() || std::all_of(value.begin(), value.end(), isDigit)) return false;  // docker -u 1000:1000
  if (value.front() == '$' || value.front() == '%' || value.front() == '<' || value.front() == '[') return false;
  std::string lowered = lowerCopy(value);
  for (std::string_view marker : {"xxxx", "****", "...", "password", "changeme", "your_", "your-"}) {
    if (lowered.find(marker) != std::string::npos) return false;
  }
  return true;
}

bool nationalPhoneValid(std::string_view number) {
  size_t digits = 0;
  char separator = 0;  // the one kind besides spaces: "(11) 96419-8796", "030/1234 567"
  for (char c : number) {
    if (c >= '0' && c <= '9') {
      ++digits;
    } else if (c == '-' || c == '.' || c == '/') {
      if (separator != 0 && separator != c) return false;  // "01-02.2024" is no phone
      separator = c;
    }
  }
  return digits >= 10 && digits <= 12;
}

bool continuesALongerNumber(std::string_view text, size_t begin, size_t end) {
  auto isDigit = [](char c) { return c >= '0' && c <= '9'; };
  std::string_view match = text.substr(begin, end - begin);
  auto joins = [&](char separator) {
    return (separator == ' ' || separator == '.' || separator == '-' || separator == '/') &&
           match.find(separator) != std::string_view::npos;
  };
  if (begin >= 2 && joins(text[begin - 1]) && isDigit(text[begin - 2])) return true;
  return end + 1 < text.size() && joins(text[end]) && isDigit(text[end + 1]);
}

bool validateMatch(MatchValidator validator, std::string_view span) {
  switch (validator) {
    case MatchValidator::kNone: return true;
    case MatchValidator::kLuhn: return luhnValid(span);
    case MatchValidator::kIbanChecksum: return ibanChecksumValid(span);
    case MatchValidator::kUsSsn: return usSsnValid(span);
    case MatchValidator::kIpv4: return ipv4Valid(span);
    case MatchValidator::kIpv6: return ipv6Valid(span);
    case MatchValidator::kJwt: return jwtValid(span);
    case MatchValidator::kHighEntropy: return highEntropyValid(span);
    case MatchValidator::kNotPlaceholder: return notPlaceholderValid(span);
    case MatchValidator::kBasicCredentials: return basicCredentialsValid(span);
    case MatchValidator::kPasswordValue: return passwordValueValid(span);
    case MatchValidator::kNationalPhone: return nationalPhoneValid(span);
  }
  return false;
}

}  // namespace shadowai
