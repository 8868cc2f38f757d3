#include "net/client_hello.h"

#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <algorithm>
#include <memory>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "tls/openssl_handles.h"

namespace shadowai {
namespace {

using Bytes = std::vector<uint8_t>;

struct HelloOptions {
  int maxVersion = TLS1_3_VERSION;
  std::string serverName;  // empty: no SNI
  std::vector<std::string> alpn;
  size_t extraExtensionSize = 0;  // a custom extension, which OpenSSL puts before SNI
  unsigned maxFragment = 0;       // 0: OpenSSL's default (one record)

  HelloOptions& withVersion(int version) {
    maxVersion = version;
    return *this;
  }
  HelloOptions& withSni(std::string name) {
    serverName = std::move(name);
    return *this;
  }
  HelloOptions& withAlpn(std::vector<std::string> names) {
    alpn = std::move(names);
    return *this;
  }
  HelloOptions& withExtraExtension(size_t size) {
    extraExtensionSize = size;
    return *this;
  }
  HelloOptions& withMaxFragment(unsigned size) {
    maxFragment = size;
    return *this;
  }
};

constexpr unsigned kExtraExtensionType = 65000;

int addExtraExtension(SSL*, unsigned, unsigned, const unsigned char** out, size_t* outLength, X509*,
                      size_t, int*, void* arg) {
  const auto* data = static_cast<const Bytes*>(arg);
  *out = data->data();
  *outLength = data->size();
  return 1;
}

Bytes drain(BIO* bio) {
  char* data = nullptr;
  long size = BIO_get_mem_data(bio, &data);
  return Bytes(data, data + size);
}

// The bytes a real OpenSSL client writes first: SSL_connect on memory BIOs stops after the hello.
Bytes openSslClientHello(const HelloOptions& options) {
  SslCtxPtr ctx(SSL_CTX_new(TLS_client_method()));
  EXPECT_TRUE(ctx);
  EXPECT_EQ(SSL_CTX_set_max_proto_version(ctx.get(), options.maxVersion), 1);
  Bytes extra(options.extraExtensionSize, 0xab);
  if (!extra.empty()) {
    EXPECT_EQ(SSL_CTX_add_custom_ext(ctx.get(), kExtraExtensionType, SSL_EXT_CLIENT_HELLO,
                                     addExtraExtension, nullptr, &extra, nullptr, nullptr),
              1);
  }
  SslPtr ssl(SSL_new(ctx.get()));
  SSL_set_bio(ssl.get(), BIO_new(BIO_s_mem()), BIO_new(BIO_s_mem()));
  SSL_set_connect_state(ssl.get());
  if (!options.serverName.empty()) {
    EXPECT_EQ(SSL_set_tlsext_host_name(ssl.get(), options.serverName.c_str()), 1);
  }
  if (!options.alpn.empty()) {
    Bytes wire;
    for (const auto& name : options.alpn) {
      wire.push_back(static_cast<uint8_t>(name.size()));
      wire.insert(wire.end(), name.begin(), name.end());
    }
    EXPECT_EQ(SSL_set_alpn_protos(ssl.get(), wire.data(), static_cast<unsigned>(wire.size())), 0);
  }
  if (options.maxFragment != 0) {
    EXPECT_EQ(SSL_set_max_send_fragment(ssl.get(), options.maxFragment), 1);
  }
  int rc = SSL_connect(ssl.get());
  EXPECT_EQ(SSL_get_error(ssl.get(), rc), SSL_ERROR_WANT_READ);
  return drain(SSL_get_wbio(ssl.get()));
}

// What a real OpenSSL server answers to `hello`: a ServerHello first.
Bytes openSslServerReply(const Bytes& hello) {
  EvpPkeyPtr key(EVP_EC_gen("P-256"));
  X509Ptr cert(X509_new());
  X509_set_version(cert.get(), 2);
  ASN1_INTEGER_set(X509_get_serialNumber(cert.get()), 1);
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), 0);
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), 3600);
  X509_set_pubkey(cert.get(), key.get());
  X509_NAME* name = X509_get_subject_name(cert.get());
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>("test"), -1, -1, 0);
  X509_set_issuer_name(cert.get(), name);
  EXPECT_GT(X509_sign(cert.get(), key.get(), EVP_sha256()), 0);

  SslCtxPtr ctx(SSL_CTX_new(TLS_server_method()));
  EXPECT_EQ(SSL_CTX_use_certificate(ctx.get(), cert.get()), 1);
  EXPECT_EQ(SSL_CTX_use_PrivateKey(ctx.get(), key.get()), 1);
  SslPtr ssl(SSL_new(ctx.get()));
  BIO* in = BIO_new(BIO_s_mem());
  BIO_write(in, hello.data(), static_cast<int>(hello.size()));
  SSL_set_bio(ssl.get(), in, BIO_new(BIO_s_mem()));
  SSL_set_accept_state(ssl.get());
  SSL_do_handshake(ssl.get());
  return drain(SSL_get_wbio(ssl.get()));
}

Bytes prefix(const Bytes& bytes, size_t length) {
  return Bytes(bytes.begin(), bytes.begin() + length);
}

// Offset just past the first occurrence of `text` in `bytes`; the test's inputs make it unique.
size_t endOf(const Bytes& bytes, std::string_view text) {
  auto found = std::search(bytes.begin(), bytes.end(), text.begin(), text.end());
  EXPECT_NE(found, bytes.end()) << text;
  return static_cast<size_t>(found - bytes.begin()) + text.size();
}

size_t startOf(const Bytes& bytes, std::string_view text) {
  return endOf(bytes, text) - text.size();
}

void putU16(Bytes& bytes, size_t offset, size_t value) {
  bytes[offset] = static_cast<uint8_t>(value >> 8);
  bytes[offset + 1] = static_cast<uint8_t>(value);
}

size_t getU16(const Bytes& bytes, size_t offset) { return bytes[offset] << 8 | bytes[offset + 1]; }

// Cuts the handshake message inside a single-record hello into records of `size` bytes each.
Bytes reframe(const Bytes& hello, size_t size) {
  Bytes message(hello.begin() + 5, hello.end());
  Bytes out;
  for (size_t offset = 0; offset < message.size(); offset += size) {
    size_t length = std::min(size, message.size() - offset);
    out.insert(out.end(), {0x16, 0x03, 0x01, 0, 0});
    putU16(out, out.size() - 2, length);
    out.insert(out.end(), message.begin() + offset, message.begin() + offset + length);
  }
  return out;
}

// A minimal TLS 1.2 ClientHello around the given extensions block, for shapes OpenSSL never sends.
Bytes handmadeHello(const Bytes& extensions, bool withExtensions = true) {
  Bytes body = {0x03, 0x03};
  body.insert(body.end(), 32, 0x11);                                    // random
  body.insert(body.end(), {0x00, 0x00, 0x02, 0xc0, 0x2f, 0x01, 0x00});  // sid, suites, compression
  if (withExtensions) {
    body.insert(body.end(), {0, 0});
    putU16(body, body.size() - 2, extensions.size());
    body.insert(body.end(), extensions.begin(), extensions.end());
  }
  Bytes out = {0x16, 0x03, 0x01, 0, 0, 0x01, 0, 0, 0};
  putU16(out, 3, body.size() + 4);
  putU16(out, 7, body.size());
  out.insert(out.end(), body.begin(), body.end());
  return out;
}

Bytes extension(uint16_t type, const Bytes& data) {
  Bytes out = {static_cast<uint8_t>(type >> 8), static_cast<uint8_t>(type), 0, 0};
  putU16(out, 2, data.size());
  out.insert(out.end(), data.begin(), data.end());
  return out;
}

Bytes serverNameData(const std::vector<std::pair<uint8_t, std::string>>& names) {
  Bytes list;
  for (const auto& [type, name] : names) {
    list.insert(list.end(), {type, 0, 0});
    putU16(list, list.size() - 2, name.size());
    list.insert(list.end(), name.begin(), name.end());
  }
  Bytes out = {0, 0};
  putU16(out, 0, list.size());
  out.insert(out.end(), list.begin(), list.end());
  return out;
}

Bytes concat(std::initializer_list<Bytes> parts) {
  Bytes out;
  for (const auto& part : parts) out.insert(out.end(), part.begin(), part.end());
  return out;
}

bool isCleanHostName(const std::string& name) {
  return name.size() <= 253 && std::all_of(name.begin(), name.end(), [](char c) {
           return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
                  c == '.';
         });
}

const std::vector<std::string> kAlpn = {"h2", "http/1.1"};

TEST(ClientHello, ParsesOpenSslTls13Hello) {
  Bytes hello = openSslClientHello(HelloOptions().withSni("API.OpenAI.com").withAlpn(kAlpn));
  auto info = parseClientHello(hello);
  EXPECT_EQ(info.status, ClientHelloStatus::kOk) << toString(info.status);
  EXPECT_EQ(info.serverName, "api.openai.com");
  EXPECT_EQ(info.alpn, kAlpn);
}

TEST(ClientHello, ParsesOpenSslTls12Hello) {
  Bytes hello = openSslClientHello(HelloOptions()
                                       .withVersion(TLS1_2_VERSION)
                                       .withSni("api.anthropic.com")
                                       .withAlpn({"http/1.1"}));
  auto info = parseClientHello(hello);
  EXPECT_EQ(info.status, ClientHelloStatus::kOk) << toString(info.status);
  EXPECT_EQ(info.serverName, "api.anthropic.com");
  EXPECT_EQ(info.alpn, std::vector<std::string>{"http/1.1"});
}

TEST(ClientHello, HelloWithoutSniOrAlpnIsOkAndEmpty) {
  for (int version : {TLS1_2_VERSION, TLS1_3_VERSION}) {
    auto info = parseClientHello(openSslClientHello(HelloOptions().withVersion(version)));
    EXPECT_EQ(info.status, ClientHelloStatus::kOk) << toString(info.status);
    EXPECT_EQ(info.serverName, "");
    EXPECT_TRUE(info.alpn.empty());
  }
}

TEST(ClientHello, DropsOneTrailingDot) {
  auto info = parseClientHello(openSslClientHello(HelloOptions().withSni("api.openai.com.")));
  EXPECT_EQ(info.status, ClientHelloStatus::kOk);
  EXPECT_EQ(info.serverName, "api.openai.com");
}

TEST(ClientHello, LargeHelloWithLateSni) {
  // OpenSSL writes custom extensions first, so 3000 bytes of one push SNI past the 2048-byte
  // capture.
  Bytes hello = openSslClientHello(
      HelloOptions().withSni("late.example.com").withAlpn(kAlpn).withExtraExtension(3000));
  ASSERT_GT(startOf(hello, "late.example.com"), 2048u);
  auto whole = parseClientHello(hello);
  EXPECT_EQ(whole.status, ClientHelloStatus::kOk) << toString(whole.status);
  EXPECT_EQ(whole.serverName, "late.example.com");
  EXPECT_EQ(whole.alpn, kAlpn);

  auto captured = parseClientHello(prefix(hello, 2048));
  EXPECT_EQ(captured.status, ClientHelloStatus::kTruncated);
  EXPECT_EQ(captured.serverName, "");
}

TEST(ClientHello, HelloSplitOverRecordsByOpenSsl) {
  Bytes hello = openSslClientHello(HelloOptions()
                                       .withSni("split.example.com")
                                       .withAlpn(kAlpn)
                                       .withExtraExtension(1500)
                                       .withMaxFragment(512));
  ASSERT_EQ(getU16(hello, 3), 512u) << "OpenSSL did not split the hello";
  auto info = parseClientHello(hello);
  EXPECT_EQ(info.status, ClientHelloStatus::kOk) << toString(info.status);
  EXPECT_EQ(info.serverName, "split.example.com");
  EXPECT_EQ(info.alpn, kAlpn);
}

TEST(ClientHello, HelloSplitIntoTinyRecords) {
  Bytes hello = openSslClientHello(HelloOptions().withSni("tiny.example.com").withAlpn(kAlpn));
  for (size_t size : {1, 3, 4, 5, 100}) {
    auto info = parseClientHello(reframe(hello, size));
    EXPECT_EQ(info.status, ClientHelloStatus::kOk) << size << " " << toString(info.status);
    EXPECT_EQ(info.serverName, "tiny.example.com") << size;
    EXPECT_EQ(info.alpn, kAlpn) << size;
  }
}

TEST(ClientHello, OtherRecordBetweenFragmentsIsMalformed) {
  Bytes split = reframe(openSslClientHello(HelloOptions().withSni("a.example.com")), 64);
  split[5 + 64] = 0x17;  // the second record claims to be application data
  auto info = parseClientHello(split);
  EXPECT_EQ(info.status, ClientHelloStatus::kMalformed);
  EXPECT_EQ(info.serverName, "");
}

// Every cut of a real hello: kTruncated until the last byte, and the name and ALPN list appear
// exactly when their extension is complete, never in part and never wrong.
void expectPrefixesBehave(const Bytes& hello, const std::string& name, size_t nameEnd,
                          size_t alpnEnd) {
  for (size_t length = 0; length < hello.size(); ++length) {
    auto info = parseClientHello(prefix(hello, length));
    ASSERT_EQ(info.status, ClientHelloStatus::kTruncated) << length;
    EXPECT_EQ(info.serverName, length >= nameEnd ? name : "") << length;
    EXPECT_EQ(info.alpn, length >= alpnEnd ? kAlpn : std::vector<std::string>{}) << length;
  }
  EXPECT_EQ(parseClientHello(hello).status, ClientHelloStatus::kOk);
}

TEST(ClientHello, EveryPrefixOfARealHello) {
  for (int version : {TLS1_2_VERSION, TLS1_3_VERSION}) {
    Bytes hello = openSslClientHello(
        HelloOptions().withVersion(version).withSni("prefix.example.com").withAlpn(kAlpn));
    expectPrefixesBehave(hello, "prefix.example.com", endOf(hello, "prefix.example.com"),
                         endOf(hello, "\x02h2\x08http/1.1"));
  }
}

TEST(ClientHello, EveryPrefixOfASplitHello) {
  Bytes hello = openSslClientHello(HelloOptions()
                                       .withSni("prefix.example.com")
                                       .withAlpn(kAlpn)
                                       .withExtraExtension(700)
                                       .withMaxFragment(512));
  ASSERT_EQ(getU16(hello, 3), 512u);
  // The name straddles no record header here (both lie in the second record).
  expectPrefixesBehave(hello, "prefix.example.com", endOf(hello, "prefix.example.com"),
                       endOf(hello, "\x02h2\x08http/1.1"));
}

TEST(ClientHello, RejectsBadHostNames) {
  for (const char* name : {"bad name.example.com", "evil.com/x", "a..b.example.com", ".lead.com",
                           "caf\xc3\xa9.example.com", "tab\t.com"}) {
    auto info = parseClientHello(openSslClientHello(HelloOptions().withSni(name).withAlpn(kAlpn)));
    EXPECT_EQ(info.status, ClientHelloStatus::kMalformed) << name;
    EXPECT_EQ(info.serverName, "") << name;
    EXPECT_TRUE(info.alpn.empty()) << name;
  }
  std::string label63(63, 'a');
  std::string longest = label63 + "." + label63 + "." + label63 + "." + std::string(61, 'b');
  ASSERT_EQ(longest.size(), 253u);
  auto ok = parseClientHello(openSslClientHello(HelloOptions().withSni(longest)));
  EXPECT_EQ(ok.status, ClientHelloStatus::kOk);
  EXPECT_EQ(ok.serverName, longest);
  auto tooLong = parseClientHello(openSslClientHello(HelloOptions().withSni(longest + "b")));
  EXPECT_EQ(tooLong.status, ClientHelloStatus::kMalformed);
  EXPECT_EQ(
      parseClientHello(openSslClientHello(HelloOptions().withSni("under_score.example-1.com")))
          .serverName,
      "under_score.example-1.com");
}

TEST(ClientHello, LengthsThatOverrunTheirContainerAreMalformed) {
  const std::string name = "len.example.com";
  const Bytes hello = openSslClientHello(HelloOptions().withSni(name));
  const size_t at = startOf(hello, name);  // name, preceded by its length, type, list, extension
  struct Case {
    const char* what;
    size_t offset;
    size_t value;
  };
  for (const Case& c : {Case{"name length", at - 2, name.size() + 1},
                        Case{"server name list length", at - 5, name.size() + 4},
                        Case{"extension length", at - 7, 0xffff},
                        Case{"record length over 2^14", 3, 0x4001}, Case{"empty record", 3, 0}}) {
    Bytes bad = hello;
    putU16(bad, c.offset, c.value);
    EXPECT_EQ(parseClientHello(bad).status, ClientHelloStatus::kMalformed) << c.what;
  }

  Bytes huge = hello;
  huge[6] = huge[7] = huge[8] = 0xff;  // handshake length 2^24-1: no ClientHello is that long
  EXPECT_EQ(parseClientHello(huge).status, ClientHelloStatus::kMalformed);

  Bytes shorter = hello;  // the extensions now end past the handshake message
  putU16(shorter, 7, getU16(hello, 7) - 1);
  EXPECT_EQ(parseClientHello(shorter).status, ClientHelloStatus::kMalformed);

  Bytes oddSuites = hello;
  size_t suites = 5 + 4 + 2 + 32 + 1 + hello[5 + 4 + 2 + 32];
  putU16(oddSuites, suites, getU16(hello, suites) - 1);
  EXPECT_EQ(parseClientHello(oddSuites).status, ClientHelloStatus::kMalformed);
}

TEST(ClientHello, HandshakeThatContinuesInAMissingRecordIsTruncated) {
  // Only the first of several records has arrived: read more. The name, complete in that
  // record, is already known.
  Bytes hello = reframe(openSslClientHello(HelloOptions().withSni("more.example.com")), 256);
  ASSERT_LT(endOf(hello, "more.example.com"), 5u + 256u);
  auto info = parseClientHello(prefix(hello, 5 + 256));
  EXPECT_EQ(info.status, ClientHelloStatus::kTruncated);
  EXPECT_EQ(info.serverName, "more.example.com");

  // A handshake length one past what the extensions fill leaves a stray byte: not a hello.
  Bytes longer = openSslClientHello(HelloOptions().withSni("more.example.com"));
  putU16(longer, 7, getU16(longer, 7) + 1);
  EXPECT_EQ(parseClientHello(longer).status, ClientHelloStatus::kMalformed);
}

TEST(ClientHello, HandmadeShapes) {
  auto sni = [](const std::string& name) { return extension(0, serverNameData({{0, name}})); };
  auto alpn = [](const Bytes& list) {
    Bytes data = {0, 0};
    putU16(data, 0, list.size());
    data.insert(data.end(), list.begin(), list.end());
    return extension(16, data);
  };

  auto legacy = parseClientHello(handmadeHello({}, false));
  EXPECT_EQ(legacy.status, ClientHelloStatus::kOk) << "a hello without extensions is legal";

  auto unknownTypeFirst =
      parseClientHello(handmadeHello(extension(0, serverNameData({{7, "x"}, {0, "b.example"}}))));
  EXPECT_EQ(unknownTypeFirst.status, ClientHelloStatus::kOk);
  EXPECT_EQ(unknownTypeFirst.serverName, "b.example");

  EXPECT_EQ(parseClientHello(handmadeHello(concat({sni("a.example"), sni("b.example")}))).status,
            ClientHelloStatus::kMalformed);
  EXPECT_EQ(parseClientHello(
                handmadeHello(extension(0, serverNameData({{0, "a.example"}, {0, "b.example"}}))))
                .status,
            ClientHelloStatus::kMalformed);
  EXPECT_EQ(parseClientHello(handmadeHello(extension(0, serverNameData({{0, ""}})))).status,
            ClientHelloStatus::kMalformed);
  EXPECT_EQ(parseClientHello(handmadeHello(alpn({2, 'h', '2', 0}))).status,
            ClientHelloStatus::kMalformed)
      << "empty protocol name";
  EXPECT_EQ(
      parseClientHello(handmadeHello(concat({alpn({2, 'h', '2'}), alpn({2, 'h', '2'})}))).status,
      ClientHelloStatus::kMalformed);
  EXPECT_EQ(parseClientHello(handmadeHello(concat({sni("a.example"), {0, 21, 0}}))).status,
            ClientHelloStatus::kMalformed)
      << "a partial extension header inside the extensions block";
}

TEST(ClientHello, NotTls) {
  std::string get = "GET / HTTP/1.1\r\nHost: api.openai.com\r\n\r\n";
  EXPECT_EQ(parseClientHello(Bytes(get.begin(), get.end())).status, ClientHelloStatus::kNotTls);
  EXPECT_EQ(parseClientHello(Bytes{0x16, 0x02, 0x00}).status, ClientHelloStatus::kNotTls);
  // An SSLv2-format hello.
  EXPECT_EQ(parseClientHello(Bytes{0x80, 0x2e, 0x01, 0x00, 0x02}).status,
            ClientHelloStatus::kNotTls);
  // Too short to tell yet.
  EXPECT_EQ(parseClientHello(Bytes{}).status, ClientHelloStatus::kTruncated);
  EXPECT_EQ(parseClientHello(Bytes{0x16, 0x03}).status, ClientHelloStatus::kTruncated);
}

TEST(ClientHello, ServerHelloIsNotAClientHello) {
  Bytes reply = openSslServerReply(openSslClientHello(HelloOptions().withSni("s.example.com")));
  ASSERT_GT(reply.size(), 6u);
  ASSERT_EQ(reply[0], 0x16);
  ASSERT_EQ(reply[5], 0x02) << "expected a ServerHello";
  EXPECT_EQ(parseClientHello(reply).status, ClientHelloStatus::kNotClientHello);
  EXPECT_EQ(parseClientHello(prefix(reply, 6)).status, ClientHelloStatus::kNotClientHello);
}

// Random damage to real hellos: whatever comes out, a name is only ever a clean host name, and
// only with kOk or kTruncated.
TEST(ClientHello, DamagedHellosNeverYieldUncleanNames) {
  const Bytes hello =
      openSslClientHello(HelloOptions().withSni("fuzz.example.com").withAlpn(kAlpn));
  std::mt19937 random(1234);
  int stillOk = 0;
  for (int round = 0; round < 20000; ++round) {
    Bytes bytes = hello;
    int flips = 1 + static_cast<int>(random() % 4);
    for (int i = 0; i < flips; ++i) bytes[random() % bytes.size()] = static_cast<uint8_t>(random());
    if (round % 4 == 0) bytes.resize(random() % bytes.size());
    auto info = parseClientHello(bytes);
    bool usable =
        info.status == ClientHelloStatus::kOk || info.status == ClientHelloStatus::kTruncated;
    if (!usable) {
      EXPECT_EQ(info.serverName, "");
      EXPECT_TRUE(info.alpn.empty());
    }
    EXPECT_TRUE(isCleanHostName(info.serverName)) << info.serverName;
    if (info.status == ClientHelloStatus::kOk) ++stillOk;
  }
  // Flips in the random, cipher list or key share leave the hello valid: the test did reach kOk.
  EXPECT_GT(stillOk, 1000);
}

TEST(ClientHello, StatusNames) {
  EXPECT_STREQ(toString(ClientHelloStatus::kOk), "ok");
  EXPECT_STREQ(toString(ClientHelloStatus::kTruncated), "truncated");
  EXPECT_STREQ(toString(ClientHelloStatus::kNotClientHello), "not a ClientHello");
}

}  // namespace
}  // namespace shadowai
