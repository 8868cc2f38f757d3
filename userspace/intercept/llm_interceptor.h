// LlmInterceptor: the proxy's ConnectionInterceptor for LLM calls. Owns what all intercepted
// connections share (the local CA and its leaf cache, the client- and provider-facing TLS
// contexts, the managed credentials, the limits) and gives each proxy worker its own upstream
// connection pool.
#pragma once

#include <memory>
#include <string>

#include "common/result.h"
#include "credentials/credential_store.h"
#include "intercept/intercept_services.h"
#include "proxy/connection_interceptor.h"
#include "tls/local_ca.h"

namespace shadowai {

struct LlmInterceptorOptions {
  InterceptSettings settings;
  // PEM bundle that provider certificates must chain to; empty: the system trust store.
  std::string upstreamCaBundle;
  InterceptedCallSink onCall;
  std::shared_ptr<PolicyHolder> policy;  // null: nothing masked or blocked
};

class LlmInterceptor final : public ConnectionInterceptor {
 public:
  static Result<std::shared_ptr<LlmInterceptor>> create(LocalCa ca, std::shared_ptr<const CredentialStore> credentials,
                                                        LlmInterceptorOptions options);

  std::unique_ptr<InterceptWorkerState> makeWorkerState(const boost::asio::any_io_executor& executor) override;
  void intercept(InterceptHandoff handoff, InterceptWorkerState& state, ProxyCounterCells& counters,
                 const EscapedExceptions& escaped) override;

  // Leaf certificates minted so far and still cached.
  size_t cachedCertificates() const { return leaves_->size(); }
  // Memory held for bodies now, its bound, and calls refused for want of it.
  const BodyBudget& bodyBudget() const { return *bodyBudget_; }

 private:
  LlmInterceptor() = default;

  std::unique_ptr<LocalCa> ca_;  // the leaf cache refers to it
  std::unique_ptr<LeafCertCache> leaves_;
  std::unique_ptr<BodyBudget> bodyBudget_;
  std::shared_ptr<boost::asio::ssl::context> clientTls_;
  std::shared_ptr<boost::asio::ssl::context> upstreamTls_;
  InterceptServices services_;
};

}  // namespace shadowai
