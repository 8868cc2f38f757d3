/* Shared by the observation programs of shadowai-scan (observe.bpf.c) and of the daemon
 * (daemon.bpf.c): maps, tunables and the event-emitting helpers. Included once per object, so each
 * object has its own ring buffer and counters. */
#ifndef SHADOWAI_OBSERVE_COMMON_BPF_H
#define SHADOWAI_OBSERVE_COMMON_BPF_H

#include "vmlinux.h"
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#include "shadowai/enforce_types.h"
#include "shadowai/observe_events.h"

#define AF_INET 2
#define AF_INET6 10
#define ETH_P_IP 0x0800
#define ETH_P_IPV6 0x86DD
#define IPPROTO_TCP 6
#define IPPROTO_UDP 17
#define SOCK_STREAM 1
#define SOCK_DGRAM 2
#define DNS_PORT 53

/* Destination ports worth reporting, one bit per port, filled from the catalog by user space
 * before load. A bitmap in rodata keeps the hot path a single load, no map lookup. */
const volatile __u8 watched_ports[65536 / 8] = {};

#define SHADOWAI_RINGBUF_BYTES (1 << 22)

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, SHADOWAI_RINGBUF_BYTES);
} events SEC(".maps");

/* Wake the reader only once this much is waiting; below it the reader drains on its own timer.
 * A wake-up per event (an IRQ-work interrupt each) cost more than the programs themselves and made
 * connect() 1.6x slower under load (docs/benchmarks.md). */
const volatile __u64 wakeup_threshold_bytes = SHADOWAI_RINGBUF_BYTES / 8;

static __always_inline void submit_event(void *event)
{
	__u64 waiting = bpf_ringbuf_query(&events, BPF_RB_AVAIL_DATA);
	bpf_ringbuf_submit(event, waiting >= wakeup_threshold_bytes ? BPF_RB_FORCE_WAKEUP : BPF_RB_NO_WAKEUP);
}

/* Reservations that failed because user space fell behind, per event kind. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, SHADOWAI_LOST_SLOTS);
	__type(key, __u32);
	__type(value, __u64);
} lost_events SEC(".maps");

static __always_inline bool port_watched(__u16 port)
{
	return watched_ports[port >> 3] & (1 << (port & 7));
}

static __always_inline void count_lost(__u32 slot)
{
	__u64 *counter = bpf_map_lookup_elem(&lost_events, &slot);
	if (counter)
		__sync_fetch_and_add(counter, 1);
}

static __always_inline void set_v4(struct shadowai_addr *a, __u32 ip_be, __u16 port)
{
	a->addr[10] = 0xff;
	a->addr[11] = 0xff;
	__builtin_memcpy(&a->addr[12], &ip_be, 4);
	a->port = port;
	a->family = AF_INET;
}

static __always_inline void fill_task(struct shadowai_event_header *h)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	__u64 uid_gid = bpf_get_current_uid_gid();

	h->pid = pid_tgid >> 32;
	h->tid = (__u32)pid_tgid;
	h->uid = (__u32)uid_gid;
	h->gid = uid_gid >> 32;
	h->cgroup_id = bpf_get_current_cgroup_id();
	bpf_get_current_comm(h->comm, sizeof(h->comm));
}

static __always_inline __u32 l4_proto(struct bpf_sock_addr *ctx)
{
	if (ctx->type == SOCK_STREAM)
		return SHADOWAI_PROTO_TCP;
	if (ctx->type == SOCK_DGRAM)
		return SHADOWAI_PROTO_UDP;
	return 0;
}

/* A connect or sendmsg to a watched port. REDIRECTED: where a running shadowaid's enforce mode had
 * sent this connect before it reached us (its proxy), whose original destination is reported
 * instead; NULL otherwise. */
static __always_inline void emit_sock_addr(struct bpf_sock_addr *ctx, __u32 kind, bool v6,
					   const struct shadowai_original_dst *redirected)
{
	__u32 proto = l4_proto(ctx);
	/* user_port is a 32-bit context field holding the port in network order. */
	__u16 port = redirected ? redirected->port : bpf_ntohs((__u16)ctx->user_port);

	if (!proto || !port_watched(port))
		return;

	struct shadowai_flow_event *e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e) {
		count_lost(kind == SHADOWAI_EV_CONNECT ? SHADOWAI_LOST_CONNECT : SHADOWAI_LOST_SENDMSG);
		return;
	}
	__builtin_memset(e, 0, sizeof(*e));
	e->header.kind = kind;
	e->header.proto = proto;
	e->header.timestamp_ns = bpf_ktime_get_ns();
	e->header.socket_cookie = bpf_get_socket_cookie(ctx);
	fill_task(&e->header);
	if (redirected) {
		e->header.flags = SHADOWAI_EVF_REDIRECTED;
		__builtin_memcpy(e->header.remote.addr, redirected->addr, 16);
		e->header.remote.port = port;
		e->header.remote.family = redirected->family;
	} else if (v6) {
		__u32 ip6[4];
		ip6[0] = ctx->user_ip6[0];
		ip6[1] = ctx->user_ip6[1];
		ip6[2] = ctx->user_ip6[2];
		ip6[3] = ctx->user_ip6[3];
		__builtin_memcpy(e->header.remote.addr, ip6, 16);
		e->header.remote.port = port;
		e->header.remote.family = AF_INET6;
	} else {
		set_v4(&e->header.remote, ctx->user_ip4, port);
	}
	submit_event(e);
}

/* Where the transport header and payload of an skb start, and its addresses. */
struct l4_view {
	__u32 l4_offset;
	__u8 proto;
	struct shadowai_addr src;
	struct shadowai_addr dst;
};

static __always_inline bool parse_ip(struct __sk_buff *skb, struct l4_view *v)
{
	if (skb->protocol == bpf_htons(ETH_P_IP)) {
		struct iphdr ip;
		if (bpf_skb_load_bytes(skb, 0, &ip, sizeof(ip)))
			return false;
		if (ip.ihl < 5)
			return false;
		/* Fragments other than the first carry no transport header. */
		if (ip.frag_off & bpf_htons(0x1FFF))
			return false;
		v->l4_offset = ip.ihl * 4;
		v->proto = ip.protocol;
		set_v4(&v->src, ip.saddr, 0);
		set_v4(&v->dst, ip.daddr, 0);
		return true;
	}
	if (skb->protocol == bpf_htons(ETH_P_IPV6)) {
		struct ipv6hdr ip6;
		if (bpf_skb_load_bytes(skb, 0, &ip6, sizeof(ip6)))
			return false;
		/* Extension headers are not walked: TCP and UDP from ordinary sockets carry none. */
		v->l4_offset = sizeof(ip6);
		v->proto = ip6.nexthdr;
		__builtin_memcpy(v->src.addr, &ip6.saddr, 16);
		__builtin_memcpy(v->dst.addr, &ip6.daddr, 16);
		v->src.family = AF_INET6;
		v->dst.family = AF_INET6;
		return true;
	}
	return false;
}

static __always_inline void emit_payload(struct __sk_buff *skb, __u32 kind, __u32 lost_slot,
					 __u32 proto, struct l4_view *v, __u32 payload_offset,
					 bool remote_is_dst)
{
	if (payload_offset >= skb->len)
		return;
	__u32 available = skb->len - payload_offset;

	struct shadowai_payload_event *e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e) {
		count_lost(lost_slot);
		return;
	}
	/* Only the header needs zeroing: payload_len bounds what user space reads. */
	__builtin_memset(&e->header, 0, sizeof(e->header));
	e->header.kind = kind;
	e->header.proto = proto;
	e->header.timestamp_ns = bpf_ktime_get_ns();
	e->header.socket_cookie = bpf_get_socket_cookie(skb);
	e->header.cgroup_id = bpf_skb_cgroup_id(skb);
	e->header.uid = bpf_get_socket_uid(skb);
	if (remote_is_dst) {
		e->header.local = v->src;
		e->header.remote = v->dst;
	} else {
		e->header.local = v->dst;
		e->header.remote = v->src;
	}
	e->original_len = available;

	__u64 len = available;
	if (len > sizeof(e->payload))
		len = sizeof(e->payload);
	/* Keep clang from re-deriving len from `available` after the clamp: the verifier must see
	 * the bounds checked on the very register passed to bpf_skb_load_bytes. */
	asm volatile("" : "+r"(len));
	if (len == 0 || len > sizeof(e->payload) ||
	    bpf_skb_load_bytes(skb, payload_offset, e->payload, len)) {
		bpf_ringbuf_discard(e, 0);
		return;
	}
	e->payload_len = len;
	submit_event(e);
}

/* "GET ", "POST ", "PUT ", "PATCH ", "DELETE ", "HEAD ", "OPTIONS ": what API clients send. */
static __always_inline bool http_request_start(const __u8 b[6])
{
	return (b[0] == 'G' && b[1] == 'E' && b[2] == 'T' && b[3] == ' ') ||
	       (b[0] == 'P' && b[1] == 'O' && b[2] == 'S' && b[3] == 'T' && b[4] == ' ') ||
	       (b[0] == 'P' && b[1] == 'U' && b[2] == 'T' && b[3] == ' ') ||
	       (b[0] == 'P' && b[1] == 'A' && b[2] == 'T' && b[3] == 'C' && b[4] == 'H' && b[5] == ' ') ||
	       (b[0] == 'D' && b[1] == 'E' && b[2] == 'L' && b[3] == 'E' && b[4] == 'T' && b[5] == 'E') ||
	       (b[0] == 'H' && b[1] == 'E' && b[2] == 'A' && b[3] == 'D' && b[4] == ' ') ||
	       (b[0] == 'O' && b[1] == 'P' && b[2] == 'T' && b[3] == 'I' && b[4] == 'O' && b[5] == 'N');
}

static __always_inline void observe_tls_hello(struct __sk_buff *skb)
{
	struct l4_view v = {};
	struct tcphdr tcp;
	__u8 record[6];

	if (!parse_ip(skb, &v) || v.proto != IPPROTO_TCP)
		return;
	if (bpf_skb_load_bytes(skb, v.l4_offset, &tcp, sizeof(tcp)))
		return;
	__u16 dport = bpf_ntohs(tcp.dest);
	if (!port_watched(dport))
		return;
	__u32 payload_offset = v.l4_offset + tcp.doff * 4;
	/* A TLS handshake record (0x16, version 3.x) whose first message is a ClientHello (0x01), or
	 * the start of a plain HTTP request (a provider called without TLS: its Host names it). */
	if (bpf_skb_load_bytes(skb, payload_offset, record, sizeof(record)))
		return;
	__u32 kind;
	if (record[0] == 0x16 && record[1] == 0x03 && record[5] == 0x01)
		kind = SHADOWAI_EV_TLS_HELLO;
	else if (http_request_start(record))
		kind = SHADOWAI_EV_HTTP_REQUEST;
	else
		return;
	v.src.port = bpf_ntohs(tcp.source);
	v.dst.port = dport;
	emit_payload(skb, kind, SHADOWAI_LOST_TLS_HELLO, SHADOWAI_PROTO_TCP, &v, payload_offset, true);
}

static __always_inline void observe_dns_answer(struct __sk_buff *skb)
{
	struct l4_view v = {};
	struct udphdr udp;

	if (!parse_ip(skb, &v) || v.proto != IPPROTO_UDP)
		return;
	if (bpf_skb_load_bytes(skb, v.l4_offset, &udp, sizeof(udp)))
		return;
	if (udp.source != bpf_htons(DNS_PORT))
		return;
	v.src.port = DNS_PORT;
	v.dst.port = bpf_ntohs(udp.dest);
	emit_payload(skb, SHADOWAI_EV_DNS_ANSWER, SHADOWAI_LOST_DNS_ANSWER, SHADOWAI_PROTO_UDP, &v,
		     v.l4_offset + sizeof(udp), false);
}

/* The cgroup observed (the scan's scope, the daemon's governed cgroup) and its depth below the
 * cgroup v2 root, set before load: programs that are not attached to a cgroup (the exec tracepoint)
 * report only tasks inside it. */
const volatile __u64 scope_cgroup_id = 0;
const volatile __u32 scope_cgroup_level = 0;

static __always_inline bool task_in_scope(void)
{
	return bpf_get_current_ancestor_cgroup_id(scope_cgroup_level) == scope_cgroup_id;
}

static __always_inline void emit_exec(void)
{
	struct shadowai_flow_event *e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e) {
		count_lost(SHADOWAI_LOST_EXEC);
		return;
	}
	__builtin_memset(e, 0, sizeof(*e));
	e->header.kind = SHADOWAI_EV_EXEC;
	e->header.timestamp_ns = bpf_ktime_get_ns();
	e->header.cgroup_id = bpf_get_current_cgroup_id();
	fill_task(&e->header);
	submit_event(e);
}

#endif /* SHADOWAI_OBSERVE_COMMON_BPF_H */
