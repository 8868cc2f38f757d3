#include "intercept/llm_interceptor.h"

#include "intercept/client_tls_context.h"
#include "intercept/intercept_session.h"
#include "intercept/upstream_tls_context.h"

namespace shadowai {

namespace {

struct PoolState final : InterceptWorkerState {
  PoolState(const boost::asio::any_io_executor& executor, std::shared_ptr<boost::asio::ssl::context> tls,
            UpstreamPoolOptions options)
      : pool(executor, std::move(tls), std::move(options)) {}
  UpstreamPool pool;
};

}  // namespace

Result<std::shared_ptr<LlmInterceptor>> LlmInterceptor::create(LocalCa ca,
                                                               std::shared_ptr<const CredentialStore> credentials,
                                                               LlmInterceptorOptions options) {
  std::shared_ptr<LlmInterceptor> interceptor(new LlmInterceptor());
  interceptor->ca_ = std::make_unique<LocalCa>(std::move(ca));
  interceptor->leaves_ = std::make_unique<LeafCertCache>(*interceptor->ca_);
  auto clientTls = makeClientFacingTlsContext();
  if (!clientTls) return clientTls.error();
  interceptor->clientTls_ = std::move(*clientTls);
  auto upstreamTls = makeUpstreamTlsContext(options.upstreamCaBundle);
  if (!upstreamTls) return upstreamTls.error();
  interceptor->upstreamTls_ = std::move(*upstreamTls);

  InterceptServices& services = interceptor->services_;
  services.leaves = interceptor->leaves_.get();
  services.clientTls = interceptor->clientTls_.get();
  services.credentials = credentials ? std::move(credentials) : std::make_shared<const CredentialStore>();
  services.settings = std::move(options.settings);
  interceptor->bodyBudget_ = std::make_unique<BodyBudget>(services.settings.maxBufferedBytes);
  services.bodyBudget = interceptor->bodyBudget_.get();
  services.onCall = std::move(options.onCall);
  services.policy = std::move(options.policy);
  return interceptor;
}

std::unique_ptr<InterceptWorkerState> LlmInterceptor::makeWorkerState(const boost::asio::any_io_executor& executor) {
  return std::make_unique<PoolState>(executor, upstreamTls_, services_.settings.upstream);
}

void LlmInterceptor::intercept(InterceptHandoff handoff, InterceptWorkerState& state, ProxyCounterCells& counters,
                               const EscapedExceptions& escaped) {
  startInterceptSession(std::move(handoff), services_, static_cast<PoolState&>(state).pool, counters, escaped);
}

}  // namespace shadowai
