#include "support/local_ca_for_test.h"

#include <chrono>

#include "tls/certificate_builder.h"
#include "tls/certificate_name.h"

namespace shadowai::test {

Result<LocalCaForTest> LocalCaForTest::create() {
  auto dir = TempDir::create("shadowai-local-ca");
  if (!dir) return dir.error();
  auto ca = LocalCa::loadOrCreate(dir->path());
  if (!ca) return ca.error();
  return LocalCaForTest(std::make_unique<TempDir>(std::move(*dir)), std::make_unique<LocalCa>(std::move(*ca)));
}

Result<LeafCert> LocalCaForTest::mintLeaf(const std::string& name) const {
  auto key = generateP256Key();
  if (!key) return key.error();
  auto parsed = parseCertificateName(name);
  if (!parsed) return parsed.error();
  return mintLeafCert(*ca_, key->get(), *parsed, std::chrono::system_clock::now(), std::chrono::hours(24));
}

std::string LocalCaForTest::certificatePath() const { return LocalCa::certificatePath(dir_->path()); }

}  // namespace shadowai::test
