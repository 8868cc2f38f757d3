// One intercepted connection: the TLS handshake with the workload (our leaf certificate for its
// SNI), then its HTTP/1.1 requests one after the other (keep-alive), each read whole within the
// limits and handed to forwardCall(), and one InterceptedCall record per request.
#pragma once

#include "intercept/intercept_services.h"
#include "intercept/upstream_pool.h"
#include "proxy/connection_interceptor.h"

namespace shadowai {

// Runs on HANDOFF.client's executor; returns at once. SERVICES and POOL must outlive the io_context
// the connection runs on (the interceptor and the worker's state do); an exception that escapes the
// session ends the connection and goes to ESCAPED.
void startInterceptSession(InterceptHandoff handoff, const InterceptServices& services, UpstreamPool& pool,
                           ProxyCounterCells& counters, const EscapedExceptions& escaped);

}  // namespace shadowai
