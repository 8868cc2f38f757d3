// Header rules for a proxy that re-originates HTTP/1.1 requests: what is hop-by-hop (RFC 9110
// section 7.6.1) and must not cross, and how a response's body is recognised as a Server-Sent-Events
// stream.
#pragma once

#include <boost/beast/http/fields.hpp>
#include <string_view>

namespace shadowai {

// Removes Connection, the fields it names, Keep-Alive, Proxy-Connection, TE, Trailer, Upgrade,
// Transfer-Encoding and Content-Length (the serializer sets the framing of the side it writes),
// and Expect (the proxy answers 100-continue itself and sends the whole body upstream).
void removeHopByHopFields(boost::beast::http::fields& fields);

// Content-Type text/event-stream, any case, parameters ignored.
bool isEventStream(std::string_view contentType);

// Whether a body of that Content-Type is text a masker can read: text/*, JSON (application/json,
// application/*+json), or no Content-Type at all.
bool isTextual(std::string_view contentType);

// Content-Encoding absent or identity: the body is as the masker would read it.
bool isIdentityEncoded(std::string_view contentEncoding);

// Why a request's framing cannot be trusted (RFC 9112 section 6), "" when it can. Beast already
// refuses Content-Length with Transfer-Encoding, differing or malformed Content-Length values and
// lists, and replaces obs-fold with a space (section 5.2 allows that); this adds what Beast lets
// through, so that a body the proxy and the provider could delimit differently never goes upstream:
// Transfer-Encoding in HTTP/1.0, and any Transfer-Encoding but a single "chunked" (chunked not last,
// given twice, or with another coding the proxy would have to decode). VERSION as Beast gives it (11).
std::string requestFramingProblem(const boost::beast::http::fields& fields, unsigned version);

// Why a request may not go to the host the TLS connection was verified for, "" when it may: its
// target must be in origin form ("/path?query"; an absolute URI could name another host), and it
// must carry exactly one Host header naming SERVER_NAME (any case, with or without ":443").
// Otherwise a workload could send a catalog host's SNI and have a shared front end (a CDN) route the
// request, managed key included, to another site by its Host: domain fronting.
std::string misdirectionOf(const boost::beast::http::fields& fields, std::string_view target,
                           std::string_view serverName);

}  // namespace shadowai
