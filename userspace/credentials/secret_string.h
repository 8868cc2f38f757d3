// SecretString: holds a credential (an API key) so that it cannot end up in a log line by accident and
// does not linger in freed memory. There is no operator<< and no implicit conversion; reveal() is the
// one, greppable, way to the bytes, for the code that puts the key on the wire. The bytes are wiped
// with OPENSSL_cleanse when the value is destroyed, reassigned or moved from.
#pragma once

#include <string>
#include <string_view>

namespace shadowai {

class SecretString {
 public:
  SecretString() = default;
  explicit SecretString(std::string_view value);
  ~SecretString();

  // Copies are allowed (a store is rebuilt on reload) but each one is wiped on its own destruction.
  SecretString(const SecretString& other);
  SecretString& operator=(const SecretString& other);
  // A moved std::string can leave its bytes in the source's small-string buffer, so a move copies and
  // wipes the source instead.
  SecretString(SecretString&& other) noexcept;
  SecretString& operator=(SecretString&& other) noexcept;

  bool empty() const { return value_.empty(); }
  size_t size() const { return value_.size(); }

  // The key itself. Only for putting it into an upstream request; never for text meant for people.
  std::string_view reveal() const { return value_; }

  // "sha256:0123456789ab": tells keys apart (the same fingerprint as shadowai-scan reports for keys in
  // process environments) and reveals nothing usable about them.
  std::string fingerprint() const;

  // "<secret sha256:0123456789ab>", or "<empty secret>". Safe for logs and error messages.
  std::string describe() const;

  bool operator==(const SecretString& other) const;

 private:
  void wipe();

  std::string value_;
};

// Wipes a std::string's bytes, including the spare capacity, then clears it. For the temporaries that
// held a key on its way somewhere (a file buffer, a header value being built).
void wipeString(std::string& text);

}  // namespace shadowai
