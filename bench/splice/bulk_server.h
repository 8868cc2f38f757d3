// splice_bench's server: TLS for www.bench.test on 127.0.0.2:443 in the benchmark's own process
// (outside the daemon's cgroup, as a remote server would be). After the handshake it serves
// transfers (splice/transfer.h): it reads an upload and acknowledges it, or sends a download. Every
// handshake is a full one, with nothing sent unasked after it (no session tickets).
#pragma once

#include <cstdint>
#include <memory>

#include "common/result.h"
#include "support/test_ca.h"

namespace shadowai::bench::splice {

class BulkServer {
 public:
  // Listens and serves on a thread of its own with LEAF's certificate.
  static Result<std::unique_ptr<BulkServer>> start(const test::LeafFiles& leaf);
  virtual ~BulkServer() = default;
  virtual uint64_t handshakes() const = 0;
  virtual uint64_t handshakeFailures() const = 0;
};

}  // namespace shadowai::bench::splice
