#include "net/client_hello.h"

#include <algorithm>

namespace shadowai {
namespace {

constexpr uint8_t kHandshakeRecordType = 0x16;
constexpr uint8_t kTlsMajorVersion = 0x03;
constexpr uint8_t kClientHelloType = 1;
constexpr size_t kRecordHeaderSize = 5;
constexpr size_t kHandshakeHeaderSize = 4;
constexpr size_t kMaxRecordLength = 1 << 14;  // RFC 8446 5.1, TLSPlaintext.length
constexpr size_t kRandomSize = 32;
constexpr size_t kMaxSessionIdLength = 32;
// The largest ClientHello body its own length fields allow (version, random, session id, cipher
// suites, compression methods, extensions). A longer handshake length is garbage, and answering
// it with "read more" would let it keep the proxy waiting.
constexpr size_t kMaxClientHelloLength =
    2 + kRandomSize + (1 + kMaxSessionIdLength) + (2 + 65534) + (1 + 255) + (2 + 65535);
constexpr size_t kMaxHostNameLength = 253;
constexpr uint16_t kServerNameExtension = 0;
constexpr uint16_t kAlpnExtension = 16;
constexpr uint8_t kHostNameType = 0;

// Reads the fields of one length-delimited structure. Positions index one buffer shared by all
// nested readers; `end_` is where the structure's own length says it ends, and may lie past the
// bytes present. Running into end_ means the lengths disagree (kMalformed); running out of bytes
// before end_ means the capture was cut (kTruncated). The first failure is kept in failure_.
class Reader {
 public:
  Reader() = default;
  Reader(std::span<const uint8_t> present, size_t begin, size_t end)
      : present_(present), pos_(begin), end_(end) {}

  ClientHelloStatus failure() const { return failure_; }
  bool atEnd() const { return pos_ == end_; }
  size_t remaining() const { return end_ - pos_; }
  size_t end() const { return end_; }

  bool readU8(uint8_t& out) {
    if (!need(1)) return false;
    out = present_[pos_++];
    return true;
  }

  bool readU16(uint16_t& out) {
    if (!need(2)) return false;
    out = static_cast<uint16_t>(present_[pos_] << 8 | present_[pos_ + 1]);
    pos_ += 2;
    return true;
  }

  bool readU24(uint32_t& out) {
    if (!need(3)) return false;
    out =
        static_cast<uint32_t>(present_[pos_] << 16 | present_[pos_ + 1] << 8 | present_[pos_ + 2]);
    pos_ += 3;
    return true;
  }

  bool readBytes(size_t count, std::span<const uint8_t>& out) {
    if (!need(count)) return false;
    out = present_.subspan(pos_, count);
    pos_ += count;
    return true;
  }

  bool skip(size_t count) {
    if (!need(count)) return false;
    pos_ += count;
    return true;
  }

  // Reads a length prefix of `width` (1 or 2) bytes and gives `out` the body that follows. This
  // reader moves past the body even when it is not all present, so a caller can step over an
  // extension it does not need; the next read then reports kTruncated.
  bool readNested(size_t width, Reader& out) {
    size_t length = 0;
    if (width == 1) {
      uint8_t value = 0;
      if (!readU8(value)) return false;
      length = value;
    } else {
      uint16_t value = 0;
      if (!readU16(value)) return false;
      length = value;
    }
    if (length > remaining()) return fail(ClientHelloStatus::kMalformed);
    out = Reader(present_, pos_, pos_ + length);
    pos_ += length;
    return true;
  }

  bool fail(ClientHelloStatus status) {
    failure_ = status;
    return false;
  }

 private:
  bool need(size_t count) {
    if (count > remaining()) return fail(ClientHelloStatus::kMalformed);
    if (pos_ + count > present_.size()) return fail(ClientHelloStatus::kTruncated);
    return true;
  }

  std::span<const uint8_t> present_;
  size_t pos_ = 0;
  size_t end_ = 0;
  ClientHelloStatus failure_ = ClientHelloStatus::kOk;
};

// Letters, digits, '-', '_' and dots between non-empty labels; one trailing dot is dropped. The
// name decides whether the proxy terminates TLS, so anything a catalog entry could not match, or
// a log line could be confused by, is refused rather than cleaned up.
bool normalizeHostName(std::span<const uint8_t> raw, std::string& out) {
  if (!raw.empty() && raw.back() == '.') raw = raw.first(raw.size() - 1);
  if (raw.empty() || raw.size() > kMaxHostNameLength) return false;
  out.clear();
  out.reserve(raw.size());
  char previous = '.';
  for (uint8_t byte : raw) {
    char c = static_cast<char>(byte);
    bool allowed = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                   c == '-' || c == '_' || c == '.';
    if (!allowed || (c == '.' && previous == '.')) return false;
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    out.push_back(c);
    previous = c;
  }
  return true;
}

// RFC 6066 3: a list of (name_type, name); at most one name of each type, only host_name defined.
ClientHelloStatus parseServerName(Reader& data, std::string& serverName) {
  Reader list;
  if (!data.readNested(2, list)) return data.failure();
  if (!data.atEnd() || list.atEnd()) return ClientHelloStatus::kMalformed;
  std::span<const uint8_t> hostName;
  bool found = false;
  while (!list.atEnd()) {
    uint8_t nameType = 0;
    Reader name;
    if (!list.readU8(nameType) || !list.readNested(2, name)) return list.failure();
    if (nameType != kHostNameType) continue;
    if (found) return ClientHelloStatus::kMalformed;
    if (!name.readBytes(name.remaining(), hostName)) return name.failure();
    found = true;
  }
  if (!found) return ClientHelloStatus::kOk;
  if (!normalizeHostName(hostName, serverName)) return ClientHelloStatus::kMalformed;
  return ClientHelloStatus::kOk;
}

// RFC 7301 3.1: ProtocolName protocol_name_list<2..2^16-1>, each name opaque<1..2^8-1>.
ClientHelloStatus parseAlpn(Reader& data, std::vector<std::string>& alpn) {
  Reader list;
  if (!data.readNested(2, list)) return data.failure();
  if (!data.atEnd() || list.atEnd()) return ClientHelloStatus::kMalformed;
  std::vector<std::string> names;
  while (!list.atEnd()) {
    Reader name;
    std::span<const uint8_t> bytes;
    if (!list.readNested(1, name)) return list.failure();
    if (name.atEnd()) return ClientHelloStatus::kMalformed;
    if (!name.readBytes(name.remaining(), bytes)) return name.failure();
    names.emplace_back(bytes.begin(), bytes.end());
  }
  alpn = std::move(names);
  return ClientHelloStatus::kOk;
}

// The ClientHello body (RFC 8446 4.1.2, same layout back to TLS 1.0). Values are written into
// `info` only once their extension is complete, so a cut capture never yields half a name.
ClientHelloStatus parseBody(Reader& body, ClientHelloInfo& info) {
  uint16_t legacyVersion = 0;
  if (!body.readU16(legacyVersion)) return body.failure();
  if (legacyVersion >> 8 != kTlsMajorVersion) return ClientHelloStatus::kMalformed;
  if (!body.skip(kRandomSize)) return body.failure();

  Reader sessionId, cipherSuites, compressionMethods;
  if (!body.readNested(1, sessionId)) return body.failure();
  if (sessionId.remaining() > kMaxSessionIdLength) return ClientHelloStatus::kMalformed;
  if (!body.readNested(2, cipherSuites)) return body.failure();
  if (cipherSuites.remaining() < 2 || cipherSuites.remaining() % 2 != 0) {
    return ClientHelloStatus::kMalformed;
  }
  if (!body.readNested(1, compressionMethods)) return body.failure();
  if (compressionMethods.atEnd()) return ClientHelloStatus::kMalformed;
  if (body.atEnd()) return ClientHelloStatus::kOk;  // no extensions at all: legal before TLS 1.3

  Reader extensions;
  if (!body.readNested(2, extensions)) return body.failure();
  if (!body.atEnd()) return ClientHelloStatus::kMalformed;
  // A second SNI or ALPN extension is forbidden (RFC 8446 4.2) and could show the proxy one name
  // and the server another, so it fails the whole hello.
  bool sawServerName = false, sawAlpn = false;
  while (!extensions.atEnd()) {
    uint16_t type = 0;
    Reader data;
    if (!extensions.readU16(type) || !extensions.readNested(2, data)) return extensions.failure();
    ClientHelloStatus status = ClientHelloStatus::kOk;
    if (type == kServerNameExtension) {
      if (sawServerName) return ClientHelloStatus::kMalformed;
      sawServerName = true;
      status = parseServerName(data, info.serverName);
    } else if (type == kAlpnExtension) {
      if (sawAlpn) return ClientHelloStatus::kMalformed;
      sawAlpn = true;
      status = parseAlpn(data, info.alpn);
    }
    if (status != ClientHelloStatus::kOk) return status;
  }
  return ClientHelloStatus::kOk;
}

// Checks the (possibly partial) header of a record at the start of `stream`. The first record
// decides whether this is TLS at all; a later one that is not a handshake record breaks the rule
// that handshake messages are not interleaved with other records (RFC 8446 5.1).
ClientHelloStatus readRecordHeader(std::span<const uint8_t> stream, bool first, size_t& length) {
  ClientHelloStatus wrongKind = first ? ClientHelloStatus::kNotTls : ClientHelloStatus::kMalformed;
  if (stream.size() >= 1 && stream[0] != kHandshakeRecordType) return wrongKind;
  if (stream.size() >= 2 && stream[1] != kTlsMajorVersion) return wrongKind;
  if (stream.size() < kRecordHeaderSize) return ClientHelloStatus::kTruncated;
  length = static_cast<size_t>(stream[3] << 8 | stream[4]);
  // Empty handshake records are forbidden, and a longer one is not plaintext.
  if (length == 0 || length > kMaxRecordLength) return ClientHelloStatus::kMalformed;
  return ClientHelloStatus::kOk;
}

std::span<const uint8_t> presentPart(std::span<const uint8_t> stream, size_t offset,
                                     size_t length) {
  if (offset >= stream.size()) return {};
  return stream.subspan(offset, std::min(length, stream.size() - offset));
}

size_t handshakeLength(std::span<const uint8_t> message) {
  return static_cast<size_t>(message[1] << 16 | message[2] << 8 | message[3]);
}

// A ClientHello may be split over several handshake records (a big hello, or a client that wants
// to hide its SNI from middleboxes that read only the first record). Joining the fragments costs
// one copy, paid only in that rare case; the usual single-record hello is parsed in place.
ClientHelloStatus joinFragments(std::span<const uint8_t> stream, size_t firstRecordLength,
                                std::vector<uint8_t>& joined) {
  auto first = presentPart(stream, kRecordHeaderSize, firstRecordLength);
  joined.assign(first.begin(), first.end());
  size_t offset = kRecordHeaderSize + firstRecordLength;
  auto complete = [&joined] {
    return joined.size() >= kHandshakeHeaderSize &&
           joined.size() >= kHandshakeHeaderSize + handshakeLength(joined);
  };
  while (offset < stream.size() && !complete()) {
    size_t length = 0;
    ClientHelloStatus status = readRecordHeader(stream.subspan(offset), false, length);
    if (status != ClientHelloStatus::kOk) return status;
    auto fragment = presentPart(stream, offset + kRecordHeaderSize, length);
    joined.insert(joined.end(), fragment.begin(), fragment.end());
    offset += kRecordHeaderSize + length;
  }
  return ClientHelloStatus::kOk;
}

// Parses one handshake message, of which `message` holds the first bytes (maybe not all).
ClientHelloStatus parseHandshake(std::span<const uint8_t> message, ClientHelloInfo& info) {
  if (message.empty()) return ClientHelloStatus::kTruncated;
  if (message[0] != kClientHelloType) return ClientHelloStatus::kNotClientHello;
  if (message.size() < kHandshakeHeaderSize) return ClientHelloStatus::kTruncated;
  size_t length = handshakeLength(message);
  if (length > kMaxClientHelloLength) return ClientHelloStatus::kMalformed;
  Reader body(message, kHandshakeHeaderSize, kHandshakeHeaderSize + length);
  ClientHelloStatus status = parseBody(body, info);
  // Extensions that were stepped over without being read may lie past the bytes present.
  if (status == ClientHelloStatus::kOk && message.size() < body.end()) {
    return ClientHelloStatus::kTruncated;
  }
  return status;
}

ClientHelloInfo parseRecords(std::span<const uint8_t> bytes) {
  ClientHelloInfo info;
  size_t recordLength = 0;
  info.status = readRecordHeader(bytes, true, recordLength);
  if (info.status != ClientHelloStatus::kOk) return info;

  auto fragment = presentPart(bytes, kRecordHeaderSize, recordLength);
  bool headerInFirstRecord = recordLength >= kHandshakeHeaderSize;
  bool bodyInFirstRecord =
      headerInFirstRecord && (fragment.size() < kHandshakeHeaderSize ||
                              kHandshakeHeaderSize + handshakeLength(fragment) <= recordLength);
  if (bodyInFirstRecord) {
    info.status = parseHandshake(fragment, info);
    return info;
  }
  std::vector<uint8_t> joined;
  ClientHelloStatus joinStatus = joinFragments(bytes, recordLength, joined);
  // A record header cut short only means fewer bytes to parse; other failures end here.
  if (joinStatus != ClientHelloStatus::kOk && joinStatus != ClientHelloStatus::kTruncated) {
    info.status = joinStatus;
    return info;
  }
  info.status = parseHandshake(joined, info);
  return info;
}

}  // namespace

ClientHelloInfo parseClientHello(std::span<const uint8_t> bytes) {
  ClientHelloInfo info = parseRecords(bytes);
  // Values read before the hello turned out broken are not to be trusted.
  if (info.status != ClientHelloStatus::kOk && info.status != ClientHelloStatus::kTruncated) {
    info.serverName.clear();
    info.alpn.clear();
  }
  return info;
}

const char* toString(ClientHelloStatus status) {
  switch (status) {
    case ClientHelloStatus::kOk:
      return "ok";
    case ClientHelloStatus::kNotTls:
      return "not TLS";
    case ClientHelloStatus::kNotClientHello:
      return "not a ClientHello";
    case ClientHelloStatus::kTruncated:
      return "truncated";
    case ClientHelloStatus::kMalformed:
      return "malformed";
  }
  return "unknown";
}

}  // namespace shadowai
