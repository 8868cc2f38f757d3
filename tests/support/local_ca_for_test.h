// LocalCaForTest: a throw-away LocalCa (the daemon's own CA code) in a TempDir of its own, and the
// leaves it signs, for the unit tests of the code that terminates or verifies TLS with them.
#pragma once

#include <memory>
#include <string>

#include "common/result.h"
#include "support/temp_dir.h"
#include "tls/leaf_cert.h"
#include "tls/local_ca.h"

namespace shadowai::test {

class LocalCaForTest {
 public:
  static Result<LocalCaForTest> create();

  // A leaf for NAME (a DNS name or an IP address), valid from an hour ago for a day.
  Result<LeafCert> mintLeaf(const std::string& name) const;
  const LocalCa& ca() const { return *ca_; }
  // The CA certificate, what clients trust.
  std::string certificatePath() const;

 private:
  LocalCaForTest(std::unique_ptr<TempDir> dir, std::unique_ptr<LocalCa> ca) : dir_(std::move(dir)), ca_(std::move(ca)) {}
  std::unique_ptr<TempDir> dir_;
  std::unique_ptr<LocalCa> ca_;
};

}  // namespace shadowai::test
