/* Types shared by the observation BPF programs (bpf/observe.bpf.c) and the C++ code that reads
 * their ring buffer. Plain C, fixed-width fields, explicit padding: the layout is the ABI between
 * the kernel side and user space, so both sides include this one header. */
#ifndef SHADOWAI_OBSERVE_EVENTS_H
#define SHADOWAI_OBSERVE_EVENTS_H

#ifdef __BPF__
/* vmlinux.h provides __u8 .. __u64 */
#else
#include <linux/types.h>
#endif

#define SHADOWAI_COMM_LEN 16
/* Bytes of TCP payload copied for a ClientHello. Large enough for the SNI of every mainstream TLS
 * client (Chrome, Go, OpenSSL, Node put server_name well inside the first 1 KiB); a ClientHello
 * whose SNI lies beyond it is reported as "no SNI", never misparsed. Power of two: the BPF side
 * masks lengths with (N - 1) to keep the verifier's bounds simple. */
#define SHADOWAI_TLS_CAPTURE 2048
/* Bytes of a DNS response copied from a UDP datagram (EDNS answers from common resolvers stay
 * below 1232 bytes; the parser treats a cut answer as truncated). */
#define SHADOWAI_DNS_CAPTURE 2048

enum shadowai_event_kind {
	SHADOWAI_EV_CONNECT = 1,     /* connect() on TCP or UDP (connect4/connect6) */
	SHADOWAI_EV_SENDMSG = 2,     /* sendmsg()/sendto() on an unconnected UDP socket */
	SHADOWAI_EV_TLS_HELLO = 3,   /* first bytes of an outgoing TLS ClientHello */
	SHADOWAI_EV_DNS_ANSWER = 4,  /* an incoming UDP datagram from port 53 */
	SHADOWAI_EV_QUIC_REFUSED = 5, /* enforce mode refused UDP/443 to an LLM address (daemon only) */
	/* Enforce mode redirected a connect in a network namespace where the proxy does not listen yet
	 * (daemon only): its SYN is held until the daemon opens a listener there. In this event
	 * socket_cookie carries the namespace's cookie (bpf_get_netns_cookie), not a socket's. */
	SHADOWAI_EV_NETNS_UNSERVED = 6,
	/* A process of the observed cgroup called execve(): its environment is new, read it while it
	 * lives (a key holder that runs for a few seconds mid-scan). Task fields only. */
	SHADOWAI_EV_EXEC = 7,
	/* The first bytes of a plain HTTP request (no TLS) on a watched port: its Host names the
	 * provider. A payload event, like a ClientHello; lost ones count in the tls_hello slot. */
	SHADOWAI_EV_HTTP_REQUEST = 8,
};

/* shadowai_event_header.flags */
/* A connect that a running shadowaid's enforce mode had already redirected to its proxy (seen by
 * shadowai-scan through the daemon's pinned original_dst): `remote` is the original destination. */
#define SHADOWAI_EVF_REDIRECTED 1u

enum shadowai_l4_proto {
	SHADOWAI_PROTO_TCP = 6,
	SHADOWAI_PROTO_UDP = 17,
};

/* Which counter in the `lost_events` map a failed ring buffer reservation increments. */
enum shadowai_lost_slot {
	SHADOWAI_LOST_CONNECT = 0,
	SHADOWAI_LOST_SENDMSG = 1,
	SHADOWAI_LOST_TLS_HELLO = 2,
	SHADOWAI_LOST_DNS_ANSWER = 3,
	SHADOWAI_LOST_EXEC = 4,
	SHADOWAI_LOST_SLOTS = 5,
};

/* An address as the kernel saw it. IPv4 is stored as an IPv4-mapped IPv6 address
 * (::ffff:a.b.c.d) so user space handles one shape; `family` keeps what the socket was. */
struct shadowai_addr {
	__u8 addr[16];  /* network byte order */
	__u16 port;     /* host byte order */
	__u16 family;   /* AF_INET or AF_INET6 of the socket */
	__u32 pad;
};

/* Common head of every event. Programs on sockets (connect, sendmsg) know the task; skb
 * programs run in softirq context and do not, so they leave pid/uid/comm zero and user space
 * joins them to the connect event through `socket_cookie`. */
struct shadowai_event_header {
	__u32 kind;         /* enum shadowai_event_kind */
	__u32 proto;        /* enum shadowai_l4_proto */
	__u64 timestamp_ns; /* bpf_ktime_get_ns(), CLOCK_MONOTONIC */
	__u64 cgroup_id;
	__u64 socket_cookie;
	__u32 pid;          /* thread group id (user-space "pid") */
	__u32 tid;
	__u32 uid;
	__u32 gid;
	__u32 flags;        /* SHADOWAI_EVF_* */
	__u32 flags_pad;
	char comm[SHADOWAI_COMM_LEN];
	struct shadowai_addr local;   /* zero for connect/sendmsg (not bound yet) */
	struct shadowai_addr remote;  /* destination for connect/sendmsg/TLS; the DNS server for DNS */
};

struct shadowai_flow_event {
	struct shadowai_event_header header;
};

/* TLS ClientHello or DNS answer: the payload is copied raw and parsed in user space, where a
 * parser bug costs one event and not a kernel verifier rewrite. */
struct shadowai_payload_event {
	struct shadowai_event_header header;
	__u32 payload_len;      /* bytes valid in payload[] */
	__u32 original_len;     /* bytes the packet carried (> payload_len when cut) */
	__u8 payload[SHADOWAI_TLS_CAPTURE > SHADOWAI_DNS_CAPTURE ? SHADOWAI_TLS_CAPTURE : SHADOWAI_DNS_CAPTURE];
};

#endif /* SHADOWAI_OBSERVE_EVENTS_H */
