// splice_bench's report: what a run found, as JSON or as the human summary with its goals.
#pragma once

#include <sys/types.h>

#include <array>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "daemon/daemon_config.h"
#include "shared/process_figures.h"
#include "splice/phases.h"
#include "splice/scenario.h"

namespace shadowai::bench::splice {

using nlohmann::json;

struct Summary {
  std::string kernel;
  unsigned cpus = 0;
  std::string loadBefore;
  std::string loadAfter;
  pid_t daemonPid = 0;
  uint64_t daemonThreads = 0;
  OpenFileLimit daemonOpenFiles;
  uint32_t maxConnections = DaemonConfig{}.proxy.maxConnections;
  TlsSession session;
  std::array<HandshakeFigures, kVariantCount> handshakes;
  std::array<BulkFigures, kVariantCount> bulk;
  std::optional<IdleFigures> idle;
  json proxyBefore;  // `shadowai status --json` before the first connection
  json proxyAfter;   // and at the end
  uint64_t splicedConnections = 0;
  uint64_t serverHandshakeFailures = 0;
};

json toJson(const Options& options, const Summary& summary);
void printHuman(const Options& options, const Summary& summary);

}  // namespace shadowai::bench::splice
