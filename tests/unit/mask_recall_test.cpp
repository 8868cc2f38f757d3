// Recall and precision of the built-in detectors on a corpus shaped like what engineers paste into
// prompts: config files, JSON documents pasted as strings, curl lines, service-account files, logs.
// The corpus is generated here (templates from the formats' own syntax, values drawn at random with
// a fixed seed), so no real secret is ever in the repository. The test prints the table that
// docs/policy.md ("How well the built-in detectors find") shows, and fails under the goals:
// >= 99 % of secrets found in every format, >= 97 % of personal data, >= 99 % of near misses
// untouched.
#include <gtest/gtest.h>
#include <openssl/evp.h>

#include <cstdio>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "mask/detector_set.h"
#include "mask_test_values.h"
#include "support/shipped_detectors.h"

namespace shadowai {
namespace {

using testing::fakeChars;
using testing::kAlnum;

constexpr int kSamplesPerTemplate = 40;

enum class Kind { kSecret, kPersonal, kNearMiss };

// One generated sample: TEXT holds VALUE (the part that must be masked whole, or, for a near miss,
// must stay untouched) at OFFSET.
struct Sample {
  std::string text;
  size_t offset = 0;
  std::string value;
};

struct Row {
  Kind kind;
  std::string name;
  std::vector<std::string> templates;                 // "{V}" marks where the value goes
  std::function<std::string(uint64_t seed)> value;    // the value for one sample
  bool hasGoal = true;                                // false: a known limit, reported only
};

Sample fill(const std::string& pattern, const std::string& value) {
  size_t at = pattern.find("{V}");
  return Sample{pattern.substr(0, at) + value + pattern.substr(at + 3), at, value};
}

// A generated password or key: letters, digits and symbols, as a password manager or a key
// generator makes them; never starting like a reference ($VAR) or placeholder.
std::string password(uint64_t seed) {
  size_t size = 12 + seed % 13;
  return fakeChars("abcdefghjkmnpqrstuvwxyz", 1, seed) + fakeChars("23456789", 1, seed + 7) +
         fakeChars(std::string(kAlnum) + "!#%*+-_@^", size - 2, seed + 11);
}
std::string base64Chars() { return std::string(kAlnum) + "+/"; }
std::string digits(size_t n, uint64_t seed) { return fakeChars("0123456789", n, seed); }

std::string base64(const std::string& in) {
  std::string out(4 * ((in.size() + 2) / 3) + 1, '\0');
  int written = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(in.data()), static_cast<int>(in.size()));
  out.resize(static_cast<size_t>(written));
  return out;
}

// Replaces each 'D' of SHAPE by a random digit ("020 DDDD DDDD").
std::string digitsInto(std::string shape, uint64_t seed) {
  for (char& c : shape) {
    if (c == 'D') c = fakeChars("0123456789", 1, seed++)[0];
  }
  return shape;
}

// A card number of a brand's prefix and length, with its Luhn check digit (or a wrong one).
std::string card(const std::string& prefix, size_t length, uint64_t seed, bool valid = true) {
  std::string number = prefix + digits(length - prefix.size() - 1, seed);
  int sum = 0;
  for (size_t i = 0; i < number.size(); ++i) {
    int d = number[number.size() - 1 - i] - '0';
    if (i % 2 == 0) d = d * 2 > 9 ? d * 2 - 9 : d * 2;
    sum += d;
  }
  int check = (10 - sum % 10) % 10;
  return number + static_cast<char>('0' + (valid ? check : (check + 1 + seed % 9) % 10));
}
std::string grouped(const std::string& number, char separator) {
  std::string out;
  for (size_t i = 0; i < number.size(); ++i) {
    if (i > 0 && i % 4 == 0) out += separator;
    out += number[i];
  }
  return out;
}

// An IBAN of COUNTRY with a BBAN of random digits and the right mod-97 check digits.
std::string iban(const std::string& country, size_t bbanDigits, uint64_t seed) {
  std::string bban = digits(bbanDigits, seed);
  std::string rearranged = bban;
  for (char c : country) rearranged += std::to_string(c - 'A' + 10);
  rearranged += "00";
  int remainder = 0;
  for (char c : rearranged) remainder = (remainder * 10 + (c - '0')) % 97;
  int check = 98 - remainder;
  std::string plain = country + (check < 10 ? "0" : "") + std::to_string(check) + bban;
  return grouped(plain, ' ');
}

std::string pemBody(uint64_t seed, const std::string& lineBreak) {
  std::string body;
  for (int line = 0; line < 4; ++line) body += fakeChars(base64Chars(), 64, seed + line) + lineBreak;
  return body + fakeChars(base64Chars(), 20, seed + 9) + "==";
}

std::vector<Row> corpus() {
  std::vector<Row> rows;
  auto secret = [&](std::string name, std::vector<std::string> templates,
                    std::function<std::string(uint64_t)> value = password) {
    rows.push_back({Kind::kSecret, std::move(name), std::move(templates), std::move(value)});
  };
  auto personal = [&](std::string name, std::vector<std::string> templates, std::function<std::string(uint64_t)> value) {
    rows.push_back({Kind::kPersonal, std::move(name), std::move(templates), std::move(value)});
  };
  auto nearMiss = [&](std::string name, std::vector<std::string> values) {
    rows.push_back({Kind::kNearMiss, std::move(name), {"see {V} in the log", "{V}", "(ref: {V})."},
                    [values](uint64_t seed) { return values[seed % values.size()]; }});
  };

  secret(".env and shell exports",
         {"DATABASE_PASSWORD={V}\nDEBUG=false", "export GITHUB_TOKEN={V}", "STRIPE_SECRET_KEY=\"{V}\"",
          "DJANGO_SECRET_KEY='{V}'", "REDIS_PASSWORD={V} # rotated monthly"});
  secret("YAML and Kubernetes",
         {"database:\n  host: db\n  password: {V}\n", "api-key: \"{V}\"", "stringData:\n  client_secret: {V}\n",
          "env:\n  - name: DB_PASSWORD\n    value: \"{V}\"\n", "        - name: api-token\n          value: {V}\n"});
  secret("TOML, INI and Terraform",
         {"[database]\npassword = \"{V}\"\n", "[auth]\nclient_secret={V}\n", "  secret_key = \"{V}\"\n",
          "variable \"db\" {\n  default = { password = \"{V}\" }\n}", "access_key = '{V}'"});
  secret("JSON", {"{\"user\": \"admin\", \"password\": \"{V}\"}", "{\"SecretAccessKey\": \"{V}\", \"Expiration\": \"2026\"}",
                  "{\"apiKey\":\"{V}\"}", "  \"auth_token\": \"{V}\",\n"});
  secret("JSON inside a JSON string",
         {"{\\\"password\\\": \\\"{V}\\\"}", "{\\\"client_secret\\\":\\\"{V}\\\"}",
          "{\\\\\\\"password\\\\\\\": \\\\\\\"{V}\\\\\\\"}", "\"config\": \"{\\\"api_key\\\": \\\"{V}\\\"}\""});
  secret("docker run -e and command lines",
         {"docker run -e DB_PASSWORD={V} app", "docker run --env API_KEY={V} -p 80:80 app",
          "curl -u deploy:{V} https://api.example.com/v1", "curl --user 'svc:{V}' https://x.example",
          "mysql -u root --password={V} prod"});
  secret("HTTP headers",
         {"X-API-Key: {V}", "curl -H \"X-Api-Key: {V}\" https://api.example.com", "Authorization: Bearer {V}",
          "headers = {\"Authorization\": \"Bearer {V}\"}"},
         [](uint64_t seed) { return fakeChars(base64Chars(), 24 + seed % 40, seed) + "x9"; });
  secret("HTTP Basic", {"Authorization: Basic {V}", "curl -H 'Authorization: Basic {V}' https://x.example"},
         [](uint64_t seed) { return base64("user" + std::to_string(seed) + ":" + password(seed)); });
  secret("URLs with credentials",
         {"DATABASE_URL=postgres://app:{V}@db.internal:5432/app", "redis://:{V}@cache:6379/0",
          "amqps://guest:{V}@mq.internal:5671", "mongodb+srv://app:{V}@cluster0.ab1cd.mongodb.net/db",
          "git clone https://oauth2:{V}@gitlab.example.com/g/r.git", "ftp://bob:{V}@files.example.com/pub"},
         [](uint64_t seed) { return fakeChars(kAlnum, 10 + seed % 20, seed) + "9"; });
  secret("PEM private keys (real, \\n, \\\\n or no line breaks)",
         {"-----BEGIN PRIVATE KEY-----\n{V}\n-----END PRIVATE KEY-----\n",
          "{\"private_key\": \"-----BEGIN PRIVATE KEY-----\\n{V}\\n-----END PRIVATE KEY-----\\n\"}",
          "\"{\\\"private_key\\\": \\\"-----BEGIN RSA PRIVATE KEY-----\\\\n{V}\\\\n-----END RSA PRIVATE KEY-----\\\\n\\\"}\"",
          "-----BEGIN OPENSSH PRIVATE KEY-----{V}-----END OPENSSH PRIVATE KEY-----"},
         [](uint64_t seed) {
           static const char* kBreaks[] = {"\n", "\\n", "\\\\n", ""};
           return pemBody(seed, kBreaks[seed % 4]);
         });
  secret("long values (200-4096 characters)",
         {"aws_session_token = {V}\nregion = eu-west-1", "export AZURE_SAS_TOKEN=\"{V}\""},
         [](uint64_t seed) { return fakeChars(base64Chars(), 200 + (seed * 97) % 3800, seed) + "=="; });
  secret("vendor keys in prose",
         {"use {V} for the staging job", "the key was {V}.", "token: {V}"},
         [](uint64_t seed) {
           switch (seed % 6) {
             case 0: return "sk-proj-" + fakeChars(std::string(kAlnum) + "-_", 64, seed);
             case 1: return "ghp_" + fakeChars(kAlnum, 36, seed);
             case 2: return "AKIA" + fakeChars("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", 16, seed);
             case 3: return "xoxb-" + digits(12, seed) + "-" + digits(12, seed + 1) + "-" + fakeChars(kAlnum, 24, seed);
             case 4: return "glpat-" + fakeChars(std::string(kAlnum) + "-_", 20, seed);
             default: return "AIza" + fakeChars(std::string(kAlnum) + "-_", 35, seed);
           }
         });
  // The bot's id before the ':' is public; the token after it is the secret.
  secret("Telegram bot token in its URL",
         {"https://api.telegram.org/bot693207425:{V}/sendMessage", "curl api.telegram.org/bot5123456789:{V}/getMe"},
         [](uint64_t seed) { return "AA" + fakeChars(std::string(kAlnum) + "_-", 33, seed); });

  // Known limits, in the table so that they are not forgotten: a password that is a word or too
  // short to tell from a setting's ordinary value.
  rows.push_back({Kind::kSecret, "limit: word-like or short passwords", {"password=\"{V}\"", "DB_PASSWORD={V}"},
                  [](uint64_t seed) {
                    static const char* kWeak[] = {"hunter2", "letmein", "Summer2024", "dragon", "P@ssw0rd", "qwerty123"};
                    return std::string(kWeak[seed % 6]);
                  },
                  false});
  secret("values over 4096 characters", {"aws_session_token = {V}\nregion = eu-west-1"},
         [](uint64_t seed) { return fakeChars(base64Chars(), 4200 + seed * 131 % 20000, seed); });

  personal("email", {"Contact {V} for access.", "\"email\": \"{V}\"", "From: Jane <{V}>"},
           [](uint64_t seed) { return fakeChars("abcdefghij", 6, seed) + "." + fakeChars("klmnopqrst", 5, seed + 1) + "@example.com"; });
  personal("phone: North American and +international", {"Call {V} now.", "tel: {V}", "\"phone\": \"{V}\""},
           [](uint64_t seed) {
             static const char* kShapes[] = {"(4DD) 5DD-DDDD", "4DD-5DD-DDDD", "+1 4DD 5DD DDDD", "+44 20 7DDD DDDD",
                                             "+49 30 DDDDDDDD", "+33 1 DD DD DD DD", "+81 3-DDDD-DDDD", "+4915DDDDDDDDD"};
             return digitsInto(kShapes[seed % 8], seed);
           });
  personal("phone: national formats (GB, DE, FR, IT, JP, CN, IN, BR)", {"Call {V} now.", "tel: {V}", "\"phone\": \"{V}\""},
           [](uint64_t seed) {
             static const char* kShapes[] = {"020 3DDD DDDD",   "07700 9DDDDD",   "0161 4DD DDDD", "030 DDDDDDDD",
                                             "0151/DDDDDDDD",   "05 DD DD DD DD", "06.DD.DD.DD.DD", "06 6DDD DDDD",
                                             "347 DDD DDDD",    "03-DDDD-DDDD",   "090-DDDD-DDDD", "138 DDDD DDDD",
                                             "010-DDDD DDDD",   "98DDD DDDDD",    "011 2DDD DDDD", "(11) 9DDDD-DDDD",
                                             "(21) 2DDD-DDDD"};
             return digitsInto(kShapes[seed % 17], seed);
           });
  personal("US SSN", {"SSN {V} on file", "ssn: {V}"}, [](uint64_t seed) {
    std::string area = std::to_string(100 + seed % 565);
    std::string group = std::to_string(10 + seed % 89);
    std::string serial = std::to_string(1000 + (seed * 37) % 8999);
    return seed % 2 ? area + "-" + group + "-" + serial : area + " " + group + " " + serial;
  });
  personal("payment cards", {"card {V} exp 12/29", "\"pan\": \"{V}\"", "paid with {V}."}, [](uint64_t seed) {
    static const std::pair<const char*, size_t> kBrands[] = {{"4", 16}, {"51", 16}, {"55", 16}, {"2221", 16},
                                                             {"34", 15}, {"37", 15}, {"6011", 16}, {"645", 16},
                                                             {"65", 16}, {"35", 16}};
    auto [prefix, length] = kBrands[seed % 10];
    std::string number = card(prefix, length, seed);
    return seed % 3 == 0 ? number : grouped(number, seed % 3 == 1 ? ' ' : '-');
  });
  personal("IBAN", {"IBAN {V}, BIC DEUTDEFF", "pay to {V}."}, [](uint64_t seed) {
    return seed % 3 == 0 ? iban("DE", 18, seed) : seed % 3 == 1 ? iban("FR", 23, seed) : iban("NL", 14, seed);
  });
  personal("IP addresses", {"host {V} is down", "\"ip\": \"{V}\"", "ssh root@{V}"}, [](uint64_t seed) {
    return std::to_string(10 + seed % 200) + "." + std::to_string(seed % 256) + "." + std::to_string((seed * 7) % 256) +
           "." + std::to_string(1 + (seed * 13) % 254);
  });

  nearMiss("order, invoice and ticket numbers",
           {"ORD-2024-118734", "#100234", "INV-0042-17", "order 0012-3456-7890", "JIRA-4521", "PO 45-1187-22"});
  nearMiss("versions, builds and dates",
           {"v1.12.3", "1.2.3-beta.4", "10.0.19045.2965", "2024-01-15", "15.01.2024", "01/02/2024", "12:30:45",
            "build 20240115", "2026-12-07T10:15:00Z"});
  nearMiss("numbers that are no card or phone",
           {"3841-917646-3648", "4111 1111 1111 1112", "ISBN 978-3-16-148410-0", "999.1.1.1", "1.2.3.4.5.6",
            "07.12.34.56.78.90", "$1,234,567.89", "lat 48.8566, lon 2.3522", "ports 8080-8090"});
  nearMiss("placeholders and documentation",
           {"AKIAXXXXXXXXXXXXXXXX", "ghp_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", "api_key=YOUR_API_KEY",
            "password=<your-password>", "token: ${API_TOKEN}", "password=changeme", "sk-...", "hf_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"});
  nearMiss("words that name no credential",
           {"tokenizer: gpt2-large-v3", "max_tokens=1024", "sort_key=created_at2", "keyboard: us-intl-2",
            "the Bearer of bad news", "Basic usage", "docker run -u 1000:1000 app", "git push -u origin main",
            "commit 3f9a0c1d2e4b5a6978877665544332211aabbccd", "id 550e8400-e29b-41d4-a716-446655440000"});
  return rows;
}

// Whether [begin, end) is covered by the matches, and whether any match touches it.
bool covered(const std::vector<DetectorMatch>& matches, size_t begin, size_t end) {
  size_t reached = begin;
  for (const DetectorMatch& match : matches) {
    if (match.begin <= reached && match.end > reached) reached = match.end;
  }
  return reached >= end;
}
bool touched(const std::vector<DetectorMatch>& matches, size_t begin, size_t end) {
  for (const DetectorMatch& match : matches) {
    if (match.begin < end && match.end > begin) return true;
  }
  return false;
}

TEST(MaskRecall, TheBuiltInDetectorsMeetTheirGoalsOnPastedShapes) {
  auto compiled = DetectorSet::compile(shippedDetectors());
  ASSERT_TRUE(compiled.ok()) << compiled.error().describe();
  const DetectorSet& set = **compiled;
  std::map<Kind, std::pair<int, int>> totals;
  std::printf("\n| category | kind | samples | %s |\n| --- | --- | --- | --- |\n", "found (untouched, for near misses)");
  for (const Row& row : corpus()) {
    int good = 0;
    int samples = 0;
    std::string firstMiss;
    for (const std::string& pattern : row.templates) {
      for (int i = 0; i < kSamplesPerTemplate; ++i) {
        Sample sample = fill(pattern, row.value(static_cast<uint64_t>(samples) * 7919 + 17));
        std::vector<DetectorMatch> matches;
        ASSERT_TRUE(set.scan(sample.text, set.all(), matches).ok());
        size_t end = sample.offset + sample.value.size();
        bool ok = row.kind == Kind::kNearMiss ? !touched(matches, sample.offset, end)
                                              : covered(matches, sample.offset, end);
        good += ok ? 1 : 0;
        if (!ok && firstMiss.empty()) firstMiss = sample.text;
        ++samples;
      }
    }
    double percent = 100.0 * good / samples;
    const char* kind = row.kind == Kind::kSecret ? "secret" : row.kind == Kind::kPersonal ? "personal data" : "near miss";
    std::printf("| %s | %s | %d | %.1f %% |\n", row.name.c_str(), kind, samples, percent);
    if (!row.hasGoal) continue;
    double goal = row.kind == Kind::kPersonal ? 97.0 : 99.0;
    EXPECT_GE(percent, goal) << row.name << "; first miss: " << firstMiss;
    totals[row.kind].first += good;
    totals[row.kind].second += samples;
  }
  for (const auto& [kind, total] : totals) {
    const char* name = kind == Kind::kSecret ? "all secrets" : kind == Kind::kPersonal ? "all personal data" : "all near misses";
    std::printf("| **%s** (limits left out) | | %d | **%.1f %%** |\n", name, total.second, 100.0 * total.first / total.second);
  }
}

}  // namespace
}  // namespace shadowai
