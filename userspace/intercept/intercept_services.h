// What every intercepted connection uses, shared by all proxy workers (LlmInterceptor owns it).
#pragma once

#include <boost/asio/ssl/context.hpp>
#include <memory>

#include "credentials/credential_store.h"
#include "intercept/body_budget.h"
#include "intercept/intercept_settings.h"
#include "intercept/intercepted_call.h"
#include "policy/policy_runtime.h"
#include "tls/leaf_cert_cache.h"

namespace shadowai {

struct InterceptServices {
  LeafCertCache* leaves = nullptr;                 // thread-safe
  boost::asio::ssl::context* clientTls = nullptr;  // SSL_new from several threads is safe
  std::shared_ptr<const CredentialStore> credentials;
  InterceptSettings settings;
  // The policy in force (swapped on reload); null: no policy, nothing is masked or blocked.
  std::shared_ptr<PolicyHolder> policy;
  InterceptedCallSink onCall;  // may be empty
  // The bound on body memory of all calls (settings.maxBufferedBytes); never null once created.
  BodyBudget* bodyBudget = nullptr;
};

}  // namespace shadowai
