// intercept_bench's reference: nginx as a TLS-terminating, TLS-re-originating reverse proxy for the
// provider on 127.0.0.3:443, with its own prefix and configuration in the run's directory. Verified
// upstream TLS with SNI, pooled keep-alive upstream connections, no buffering of the answer, the
// managed key set in place of the client's: what such a proxy in front of an LLM API looks like.
#pragma once

#include <sys/types.h>

#include <memory>
#include <string>
#include <vector>

#include "common/result.h"
#include "intercept/scenario.h"
#include "support/test_ca.h"

namespace shadowai::bench::intercept {

class NginxInstance {
 public:
  // Writes its configuration under PREFIX (a directory it creates), checks it with `nginx -t`,
  // starts it and returns once its workers run and it accepts connections. It stops with its owner.
  static Result<std::unique_ptr<NginxInstance>> start(const Options& options, const std::string& prefix,
                                                      const std::string& caPath, const test::LeafFiles& leaf);
  virtual ~NginxInstance() = default;
  virtual pid_t masterPid() const = 0;
  virtual const std::vector<pid_t>& workers() const = 0;
};

// "1.22.1" from `nginx -v`, "?" when it does not say.
std::string nginxVersion(const std::string& binary);

}  // namespace shadowai::bench::intercept
