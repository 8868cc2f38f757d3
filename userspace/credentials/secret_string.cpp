#include "credentials/secret_string.h"

#include <openssl/crypto.h>

#include "observe/env_keys.h"

namespace shadowai {

SecretString::SecretString(std::string_view value) : value_(value) {}

SecretString::~SecretString() { wipe(); }

SecretString::SecretString(const SecretString& other) : value_(other.value_) {}

SecretString& SecretString::operator=(const SecretString& other) {
  if (this != &other) {
    wipe();
    value_ = other.value_;
  }
  return *this;
}

SecretString::SecretString(SecretString&& other) noexcept : value_(other.value_) { other.wipe(); }

SecretString& SecretString::operator=(SecretString&& other) noexcept {
  if (this != &other) {
    wipe();
    value_ = other.value_;
    other.wipe();
  }
  return *this;
}

std::string SecretString::fingerprint() const { return keyFingerprint(value_); }

std::string SecretString::describe() const {
  if (value_.empty()) return "<empty secret>";
  return "<secret " + fingerprint() + ">";
}

bool SecretString::operator==(const SecretString& other) const {
  return value_.size() == other.value_.size() && CRYPTO_memcmp(value_.data(), other.value_.data(), value_.size()) == 0;
}

void SecretString::wipe() { wipeString(value_); }

void wipeString(std::string& text) {
  // Growing to capacity() never reallocates, and makes the spare bytes (where an earlier, longer value
  // may have been) ours to overwrite.
  text.resize(text.capacity());
  if (!text.empty()) OPENSSL_cleanse(text.data(), text.size());
  text.clear();
}

}  // namespace shadowai
