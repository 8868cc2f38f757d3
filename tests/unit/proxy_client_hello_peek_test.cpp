// The proxy's peek on byte sequences: when it stops reading, what it concludes, and that it parses
// once per hello however the client cuts its bytes (no O(n^2) re-parsing for a one-byte-per-segment
// client).
#include "proxy/client_hello_peek.h"

#include <gtest/gtest.h>
#include <openssl/ssl.h>

#include <memory>
#include <string>
#include <vector>

#include "tls/openssl_handles.h"

namespace shadowai {
namespace {

using Bytes = std::vector<uint8_t>;

// What a real OpenSSL client sends first, with SNI and ALPN "h2", "http/1.1"; MAX_FRAGMENT (0: one
// record) splits it over several records.
Bytes openSslClientHello(const std::string& serverName, unsigned maxFragment = 0) {
  SslCtxPtr ctx(SSL_CTX_new(TLS_client_method()));
  SslPtr ssl(SSL_new(ctx.get()));
  SSL_set_bio(ssl.get(), BIO_new(BIO_s_mem()), BIO_new(BIO_s_mem()));
  SSL_set_connect_state(ssl.get());
  if (!serverName.empty()) {
    EXPECT_EQ(SSL_set_tlsext_host_name(ssl.get(), serverName.c_str()), 1);
  }
  static const unsigned char kAlpn[] = "\x02h2\x08http/1.1";
  EXPECT_EQ(SSL_set_alpn_protos(ssl.get(), kAlpn, sizeof kAlpn - 1), 0);
  if (maxFragment != 0) {
    EXPECT_EQ(SSL_set_max_send_fragment(ssl.get(), maxFragment), 1);
  }
  SSL_connect(ssl.get());
  char* data = nullptr;
  long size = BIO_get_mem_data(SSL_get_wbio(ssl.get()), &data);
  return Bytes(data, data + size);
}

// The handshake message of a single-record hello, re-framed into records of SIZE bytes each.
Bytes reframe(const Bytes& hello, size_t size) {
  Bytes message(hello.begin() + 5, hello.end());
  Bytes out;
  for (size_t offset = 0; offset < message.size(); offset += size) {
    size_t length = std::min(size, message.size() - offset);
    out.insert(out.end(), {0x16, 0x03, 0x01, static_cast<uint8_t>(length >> 8), static_cast<uint8_t>(length)});
    out.insert(out.end(), message.begin() + static_cast<ptrdiff_t>(offset),
               message.begin() + static_cast<ptrdiff_t>(offset + length));
  }
  return out;
}

// Feeds BYTES one at a time; returns how many were taken when the peek said it was done (0: never).
size_t feedByteByByte(ClientHelloPeek& peek, const Bytes& bytes) {
  for (size_t i = 0; i < bytes.size(); ++i) {
    peek.append(std::span<const uint8_t>(&bytes[i], 1));
    if (peek.done()) return i + 1;
  }
  return 0;
}

TEST(ProxyClientHelloPeek, WholeHelloInOneRead) {
  const Bytes hello = openSslClientHello("api.example.test");
  ClientHelloPeek peek(16384);
  peek.append(hello);
  ASSERT_TRUE(peek.done());
  EXPECT_TRUE(peek.isTls());
  EXPECT_EQ(peek.hello().status, ClientHelloStatus::kOk);
  EXPECT_EQ(peek.hello().serverName, "api.example.test");
  EXPECT_EQ(peek.hello().alpn, (std::vector<std::string>{"h2", "http/1.1"}));
  EXPECT_EQ(Bytes(peek.bytes().begin(), peek.bytes().end()), hello);
  EXPECT_EQ(peek.remaining(), 0u);
}

TEST(ProxyClientHelloPeek, OneByteAtATimeIsDoneExactlyAtTheLastByteAfterOneParse) {
  const Bytes hello = openSslClientHello("api.example.test");
  ClientHelloPeek peek(16384);
  EXPECT_EQ(feedByteByByte(peek, hello), hello.size());
  EXPECT_EQ(peek.hello().status, ClientHelloStatus::kOk);
  EXPECT_EQ(peek.hello().serverName, "api.example.test");
  EXPECT_EQ(peek.parseCount(), 1u);
}

TEST(ProxyClientHelloPeek, HelloSplitIntoTinyRecordsIsStillParsedOnce) {
  const Bytes hello = openSslClientHello("tiny.example.test");
  for (size_t recordSize : {1u, 3u, 7u, 100u}) {
    SCOPED_TRACE("record size " + std::to_string(recordSize));
    const Bytes framed = reframe(hello, recordSize);
    ClientHelloPeek peek(16384);
    EXPECT_EQ(feedByteByByte(peek, framed), framed.size());
    EXPECT_EQ(peek.hello().status, ClientHelloStatus::kOk);
    EXPECT_EQ(peek.hello().serverName, "tiny.example.test");
    EXPECT_EQ(peek.parseCount(), 1u);
  }
}

TEST(ProxyClientHelloPeek, HelloSplitByOpenSslOverRecords) {
  const Bytes hello = openSslClientHello(std::string(200, 'a') + ".example.test", 512);
  ClientHelloPeek peek(16384);
  EXPECT_EQ(feedByteByByte(peek, hello), hello.size());
  EXPECT_EQ(peek.hello().status, ClientHelloStatus::kOk);
  EXPECT_EQ(peek.hello().serverName, std::string(200, 'a') + ".example.test");
}

// A plain HTTP request is read to the end of its head, however it is cut, so its Host can name a
// provider called without TLS; the body after the head is not waited for.
TEST(ProxyClientHelloPeek, HttpRequestIsReadToTheEndOfItsHeadForItsHost) {
  const std::string request = "POST /v1/chat/completions HTTP/1.1\r\nHost: API.OpenAI.com:80\r\nContent-Length: 99\r\n\r\n{";
  ClientHelloPeek peek(16384);
  const size_t headEnd = request.find("\r\n\r\n") + 4;
  for (size_t i = 0; i < request.size() && !peek.done(); ++i) {
    peek.append(std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(request.data()) + i, 1));
    EXPECT_EQ(peek.done(), i + 1 >= headEnd) << "after " << i + 1 << " bytes";
  }
  ASSERT_TRUE(peek.done());
  EXPECT_FALSE(peek.isTls());
  EXPECT_EQ(peek.hello().status, ClientHelloStatus::kNotTls);
  EXPECT_EQ(peek.httpHost(), "api.openai.com");
}

TEST(ProxyClientHelloPeek, NeitherTlsNorHttpIsDoneAtItsFirstTellingByte) {
  const std::string ssh = "SSH-2.0-OpenSSH_9.2\r\n";
  ClientHelloPeek peek(16384);
  peek.append(std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(ssh.data()), 3));
  EXPECT_FALSE(peek.done()) << "\"SSH\" could still be a method";
  peek.append(std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(ssh.data()) + 3, 1));
  ASSERT_TRUE(peek.done());
  EXPECT_FALSE(peek.isTls());
  EXPECT_EQ(peek.httpHost(), std::nullopt);
}

TEST(ProxyClientHelloPeek, HandshakeByteWithAnotherMajorVersionIsNotTls) {
  ClientHelloPeek peek(16384);
  EXPECT_EQ(feedByteByByte(peek, Bytes{0x16, 0x09, 0x01, 0x00, 0x10}), 2u);
  EXPECT_EQ(peek.hello().status, ClientHelloStatus::kNotTls);
}

TEST(ProxyClientHelloPeek, EmptyRecordIsMalformedAtItsHeader) {
  ClientHelloPeek peek(16384);
  EXPECT_EQ(feedByteByByte(peek, Bytes{0x16, 0x03, 0x01, 0x00, 0x00, 0x01, 0x00}), 5u);
  EXPECT_TRUE(peek.isTls());
  EXPECT_EQ(peek.hello().status, ClientHelloStatus::kMalformed);
}

TEST(ProxyClientHelloPeek, OtherHandshakeMessageIsKnownFromItsType) {
  // A ServerHello (type 2) header where a ClientHello belongs.
  ClientHelloPeek peek(16384);
  EXPECT_EQ(feedByteByByte(peek, Bytes{0x16, 0x03, 0x03, 0x00, 0x30, 0x02, 0x00, 0x00, 0x2c, 0x03}), 6u);
  EXPECT_TRUE(peek.isTls());
  EXPECT_EQ(peek.hello().status, ClientHelloStatus::kNotClientHello);
}

TEST(ProxyClientHelloPeek, NonHandshakeRecordBetweenFragmentsEndsThePeekAtItsHeader) {
  const Bytes framed = reframe(openSslClientHello("api.example.test"), 50);
  Bytes broken(framed.begin(), framed.begin() + 55);        // the first record, whole
  broken.insert(broken.end(), {0x17, 0x03, 0x03, 0x00, 0x10});  // application data
  broken.insert(broken.end(), 16, 0xaa);
  ClientHelloPeek peek(16384);
  EXPECT_EQ(feedByteByByte(peek, broken), 60u);
  EXPECT_EQ(peek.hello().status, ClientHelloStatus::kMalformed);
}

TEST(ProxyClientHelloPeek, LimitReachedMidHelloKeepsAnSniThatCameEarly) {
  const Bytes hello = openSslClientHello("early.example.test");
  ClientHelloPeek peek(hello.size() - 8);
  peek.append(hello);  // more than the peek takes: the rest is not its business
  ASSERT_TRUE(peek.done());
  EXPECT_EQ(peek.bytes().size(), hello.size() - 8);
  EXPECT_TRUE(peek.isTls());
  EXPECT_EQ(peek.hello().status, ClientHelloStatus::kTruncated);
  EXPECT_EQ(peek.hello().serverName, "early.example.test");
}

TEST(ProxyClientHelloPeek, SilenceAfterPartOfAHelloIsNotDone) {
  const Bytes hello = openSslClientHello("api.example.test");
  ClientHelloPeek peek(16384);
  peek.append(std::span<const uint8_t>(hello.data(), hello.size() / 2));
  EXPECT_FALSE(peek.done());
  EXPECT_FALSE(peek.isTls());  // nothing is concluded before done()
  EXPECT_GT(peek.remaining(), 0u);
}

}  // namespace
}  // namespace shadowai
