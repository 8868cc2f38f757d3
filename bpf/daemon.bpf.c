// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The daemon's programs: observation (as in observe.bpf.c) and enforce mode, in one object so a
 * connect hook reports the destination the workload asked for before it rewrites it.
 *
 *  connect4 / connect6        report; in enforce mode redirect TCP to the governed ports into the
 *                             proxy (recording the original destination), refuse UDP/443 to LLM
 *                             addresses (QUIC, so clients fall back to TCP)
 *  sendmsg4 / sendmsg6        report; in enforce mode refuse UDP/443 to LLM addresses
 *  getpeername4 / getpeername6  show a redirected socket its original destination
 *  sock_ops                   once the source port is chosen, file the original destination under
 *                             the tuple the proxy will see on accept
 *  egress_tls_hello / ingress_dns_answer  report ClientHellos and DNS answers; hold the SYN of a
 *                             redirected connection until the proxy listens in its namespace
 *  process_exec (tracepoint)  report execve() in the governed cgroup (to read new environments)
 *  cgroup_mkdir (tracepoint)  give a cgroup created at a path with a mode of its own (a restarted
 *                             unit, a re-created container) that mode before any process can enter
 *
 * The mode of a cgroup comes from cgroup_modes, nearest ancestor wins. The proxy's own upstream
 * sockets carry upstream_mark and are never touched. */
#include "observe_common.bpf.h"

#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>

#include "shadowai/enforce_types.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

#define QUIC_PORT 443
#define MAX_CGROUP_DEPTH 32
#define BPF_SOCK_OPS_TCP_CONNECT_CB_VALUE 3

/* Set by the daemon from its configuration before load. */
const volatile __u8 redirect_ports[65536 / 8] = {};
const volatile __u32 proxy_ipv4 = 0;        /* network byte order */
const volatile __u8 proxy_ipv6[16] = {};
const volatile __u16 proxy_port = 0;        /* host byte order */
const volatile __u32 upstream_mark = 0;
const volatile bool failure_open = false;
const volatile __u64 heartbeat_timeout_ns = 0;
const volatile __u32 default_mode = SHADOWAI_MODE_DETECT;

/* Pinned: they outlive a daemon restart, so modes and in-flight redirects survive it. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 65536);
	__type(key, __u64);   /* cgroup id */
	__type(value, __u32); /* enum shadowai_mode */
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} cgroup_modes SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_SK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct shadowai_original_dst);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} original_dst SEC(".maps");

/* The proxy deletes an entry when it accepts the connection; LRU only bounds what a client that
 * never reached the proxy (killed between connect and accept) leaves behind. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 65536);
	__type(key, struct shadowai_flow_key);
	__type(value, struct shadowai_original_dst);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} redirected_flows SEC(".maps");

/* Addresses the catalog or DNS answers tie to an LLM endpoint (v4-mapped), for refusing QUIC. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 65536);
	__type(key, __u8[16]);
	__type(value, __u8);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} llm_addresses SEC(".maps");

/* The operator's modes by cgroup path (the daemon's modes.json), for cgroup_mkdir. Entries are few:
 * one per `shadowai enforce/detect/off`. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, 16384);
	__type(key, struct shadowai_cgroup_path);
	__type(value, __u32); /* enum shadowai_mode */
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} cgroup_path_modes SEC(".maps");

/* cgroup_mkdir's copy of the new cgroup's path (too large for the BPF stack). */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct shadowai_cgroup_path);
} path_scratch SEC(".maps");

/* Network namespaces (by cookie) where the proxy listens: its own and each enforced container's.
 * Not pinned: a new daemon starts empty and adds the listeners it has really opened. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 65536);
	__type(key, __u64);
	__type(value, __u8);
} served_netns SEC(".maps");

/* A redirected socket whose namespace had no proxy listener at connect(): the namespace's cookie.
 * egress_tls_hello drops its SYN while that is so (TCP sends it again after a second) instead of
 * letting it meet a closed port. Not pinned, as served_netns. */
struct {
	__uint(type, BPF_MAP_TYPE_SK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, __u64);
} awaiting_listener SEC(".maps");

/* CLOCK_MONOTONIC ns of the daemon's last heartbeat, for the open failure mode. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} heartbeat SEC(".maps");

static __always_inline bool port_redirected(__u16 port)
{
	return redirect_ports[port >> 3] & (1 << (port & 7));
}

/* Nearest-ancestor lookup: walk from the root down and keep the deepest entry found. The walk ends
 * where the cgroup's own depth does (the helper returns 0 beyond it). */
static __always_inline __u32 mode_of_task(void)
{
	__u32 mode = default_mode;
	for (int level = 0; level < MAX_CGROUP_DEPTH; level++) {
		__u64 id = bpf_get_current_ancestor_cgroup_id(level);
		if (!id)
			break;
		__u32 *found = bpf_map_lookup_elem(&cgroup_modes, &id);
		if (found)
			mode = *found;
	}
	return mode;
}

static __always_inline __u32 mode_of_skb(struct __sk_buff *skb)
{
	__u32 mode = default_mode;
	for (int level = 0; level < MAX_CGROUP_DEPTH; level++) {
		__u64 id = bpf_skb_ancestor_cgroup_id(skb, level);
		if (!id)
			break;
		__u32 *found = bpf_map_lookup_elem(&cgroup_modes, &id);
		if (found)
			mode = *found;
	}
	return mode;
}

static __always_inline bool is_proxy_upstream(struct bpf_sock_addr *ctx)
{
	struct bpf_sock *sk = ctx->sk;
	return sk && upstream_mark && sk->mark == upstream_mark;
}

static __always_inline bool heartbeat_expired(void)
{
	__u32 zero = 0;
	__u64 *beat = bpf_map_lookup_elem(&heartbeat, &zero);
	if (!beat || !*beat)
		return true;
	return bpf_ktime_get_ns() - *beat > heartbeat_timeout_ns;
}

static __always_inline void destination_of(struct bpf_sock_addr *ctx, bool v6, __u8 out[16])
{
	if (v6) {
		__u32 ip6[4];
		ip6[0] = ctx->user_ip6[0];
		ip6[1] = ctx->user_ip6[1];
		ip6[2] = ctx->user_ip6[2];
		ip6[3] = ctx->user_ip6[3];
		__builtin_memcpy(out, ip6, 16);
	} else {
		__u32 ip4 = ctx->user_ip4;
		__builtin_memset(out, 0, 10);
		out[10] = 0xff;
		out[11] = 0xff;
		__builtin_memcpy(out + 12, &ip4, 4);
	}
}

static __always_inline bool is_v4_mapped(const __u8 addr[16])
{
	__u64 high;
	__u32 middle;
	__builtin_memcpy(&high, addr, 8);
	__builtin_memcpy(&middle, addr + 8, 4);
	return high == 0 && middle == bpf_htonl(0x0000ffff);
}

/* UDP to 443 of an LLM address from an enforced cgroup: refuse, so the client falls back to TCP
 * (which the proxy sees), and report it. */
static __always_inline int refuse_quic(struct bpf_sock_addr *ctx, bool v6)
{
	__u8 destination[16];
	destination_of(ctx, v6, destination);
	if (!bpf_map_lookup_elem(&llm_addresses, destination))
		return 1;
	struct shadowai_flow_event *e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (e) {
		__builtin_memset(e, 0, sizeof(*e));
		e->header.kind = SHADOWAI_EV_QUIC_REFUSED;
		e->header.proto = SHADOWAI_PROTO_UDP;
		e->header.timestamp_ns = bpf_ktime_get_ns();
		e->header.socket_cookie = bpf_get_socket_cookie(ctx);
		fill_task(&e->header);
		__builtin_memcpy(e->header.remote.addr, destination, 16);
		e->header.remote.port = QUIC_PORT;
		e->header.remote.family = v6 ? AF_INET6 : AF_INET;
		submit_event(e);
	} else {
		count_lost(SHADOWAI_LOST_SENDMSG);
	}
	return 0;
}

static __always_inline int redirect_to_proxy(struct bpf_sock_addr *ctx, bool v6)
{
	if (failure_open && heartbeat_expired())
		return 1;
	struct bpf_sock *sk = ctx->sk;
	if (!sk)
		return 0;
	struct shadowai_original_dst *orig =
		bpf_sk_storage_get(&original_dst, sk, 0, BPF_SK_STORAGE_GET_F_CREATE);
	/* Without a record the proxy could not forward the connection: refuse rather than let it
	 * bypass the proxy. */
	if (!orig)
		return 0;
	destination_of(ctx, v6, orig->addr);
	orig->port = bpf_ntohs((__u16)ctx->user_port);
	orig->family = v6 && !is_v4_mapped(orig->addr) ? AF_INET6 : AF_INET;
	orig->pid = bpf_get_current_pid_tgid() >> 32;
	orig->cgroup_id = bpf_get_current_cgroup_id();

	if (!v6) {
		ctx->user_ip4 = proxy_ipv4;
	} else if (is_v4_mapped(orig->addr)) {
		/* A dual-stack socket asking for an IPv4 peer reaches the IPv4 listener. */
		ctx->user_ip6[0] = 0;
		ctx->user_ip6[1] = 0;
		ctx->user_ip6[2] = bpf_htonl(0x0000ffff);
		ctx->user_ip6[3] = proxy_ipv4;
	} else {
		__u32 ip6[4];
		__builtin_memcpy(ip6, (const void *)proxy_ipv6, 16);
		ctx->user_ip6[0] = ip6[0];
		ctx->user_ip6[1] = ip6[1];
		ctx->user_ip6[2] = ip6[2];
		ctx->user_ip6[3] = ip6[3];
	}
	ctx->user_port = bpf_htons(proxy_port);

	/* A container the proxy does not listen in yet (it just started): tell the daemon at once, and
	 * hold the SYN until the listener is there, so the connect is served late rather than refused. */
	__u64 netns = bpf_get_netns_cookie(ctx);
	if (!bpf_map_lookup_elem(&served_netns, &netns)) {
		__u64 *awaiting = bpf_sk_storage_get(&awaiting_listener, sk, 0, BPF_SK_STORAGE_GET_F_CREATE);
		if (awaiting)
			*awaiting = netns;
		struct shadowai_flow_event *e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
		if (e) {
			__builtin_memset(e, 0, sizeof(*e));
			e->header.kind = SHADOWAI_EV_NETNS_UNSERVED;
			e->header.proto = SHADOWAI_PROTO_TCP;
			e->header.timestamp_ns = bpf_ktime_get_ns();
			e->header.socket_cookie = netns;
			fill_task(&e->header);
			/* Rare, and the connection waits for it: wake the reader now. */
			bpf_ringbuf_submit(e, BPF_RB_FORCE_WAKEUP);
		} else {
			count_lost(SHADOWAI_LOST_CONNECT);
		}
	}
	return 1;
}

static __always_inline int on_connect(struct bpf_sock_addr *ctx, bool v6)
{
	if (is_proxy_upstream(ctx))
		return 1;
	__u32 mode = mode_of_task();
	if (mode == SHADOWAI_MODE_OFF)
		return 1;
	emit_sock_addr(ctx, SHADOWAI_EV_CONNECT, v6, NULL);
	if (mode != SHADOWAI_MODE_ENFORCE)
		return 1;
	__u16 port = bpf_ntohs((__u16)ctx->user_port);
	if (ctx->type == SOCK_DGRAM)
		return port == QUIC_PORT ? refuse_quic(ctx, v6) : 1;
	if (ctx->type != SOCK_STREAM || !port_redirected(port))
		return 1;
	return redirect_to_proxy(ctx, v6);
}

static __always_inline int on_sendmsg(struct bpf_sock_addr *ctx, bool v6)
{
	__u32 mode = mode_of_task();
	if (mode == SHADOWAI_MODE_OFF)
		return 1;
	emit_sock_addr(ctx, SHADOWAI_EV_SENDMSG, v6, NULL);
	if (mode == SHADOWAI_MODE_ENFORCE && bpf_ntohs((__u16)ctx->user_port) == QUIC_PORT)
		return refuse_quic(ctx, v6);
	return 1;
}

SEC("cgroup/connect4")
int connect4(struct bpf_sock_addr *ctx) { return on_connect(ctx, false); }

SEC("cgroup/connect6")
int connect6(struct bpf_sock_addr *ctx) { return on_connect(ctx, true); }

SEC("cgroup/sendmsg4")
int sendmsg4(struct bpf_sock_addr *ctx) { return on_sendmsg(ctx, false); }

SEC("cgroup/sendmsg6")
int sendmsg6(struct bpf_sock_addr *ctx) { return on_sendmsg(ctx, true); }

static __always_inline int show_original_peer(struct bpf_sock_addr *ctx, bool v6)
{
	struct bpf_sock *sk = ctx->sk;
	if (!sk)
		return 1;
	struct shadowai_original_dst *orig = bpf_sk_storage_get(&original_dst, sk, 0, 0);
	if (!orig)
		return 1;
	if (!v6) {
		__u32 ip4;
		__builtin_memcpy(&ip4, orig->addr + 12, 4);
		ctx->user_ip4 = ip4;
	} else {
		__u32 ip6[4];
		__builtin_memcpy(ip6, orig->addr, 16);
		ctx->user_ip6[0] = ip6[0];
		ctx->user_ip6[1] = ip6[1];
		ctx->user_ip6[2] = ip6[2];
		ctx->user_ip6[3] = ip6[3];
	}
	ctx->user_port = bpf_htons(orig->port);
	return 1;
}

SEC("cgroup/getpeername4")
int getpeername4(struct bpf_sock_addr *ctx) { return show_original_peer(ctx, false); }

SEC("cgroup/getpeername6")
int getpeername6(struct bpf_sock_addr *ctx) { return show_original_peer(ctx, true); }

static __always_inline void mapped_v4(__u8 out[16], __u32 ip4)
{
	__builtin_memset(out, 0, 10);
	out[10] = 0xff;
	out[11] = 0xff;
	__builtin_memcpy(out + 12, &ip4, 4);
}

SEC("sockops")
int sock_ops(struct bpf_sock_ops *skops)
{
	if (skops->op != BPF_SOCK_OPS_TCP_CONNECT_CB_VALUE)
		return 1;
	struct bpf_sock *sk = skops->sk;
	if (!sk)
		return 1;
	struct shadowai_original_dst *orig = bpf_sk_storage_get(&original_dst, sk, 0, 0);
	if (!orig)
		return 1;

	struct shadowai_flow_key key;
	__builtin_memset(&key, 0, sizeof(key));
	if (skops->family == AF_INET) {
		mapped_v4(key.client_addr, skops->local_ip4);
		mapped_v4(key.proxy_addr, skops->remote_ip4);
	} else {
		__u32 local[4] = {skops->local_ip6[0], skops->local_ip6[1], skops->local_ip6[2], skops->local_ip6[3]};
		__u32 remote[4] = {skops->remote_ip6[0], skops->remote_ip6[1], skops->remote_ip6[2],
				   skops->remote_ip6[3]};
		__builtin_memcpy(key.client_addr, local, 16);
		__builtin_memcpy(key.proxy_addr, remote, 16);
	}
	/* local_port is in host order; remote_port holds the network-order port in its upper half. */
	key.client_port = (__u16)skops->local_port;
	key.proxy_port = bpf_ntohs((__u16)(skops->remote_port >> 16));
	key.netns_cookie = bpf_get_netns_cookie(skops);

	struct shadowai_original_dst value = *orig;
	bpf_map_update_elem(&redirected_flows, &key, &value, BPF_ANY);
	return 1;
}

/* True (drop it) for a packet of a redirected socket whose namespace still has no proxy listener:
 * its SYN, which TCP sends again (after 1 s, then 3 s...) until the daemon has opened one. */
static __always_inline int held_for_listener(struct __sk_buff *skb)
{
	struct bpf_sock *sk = skb->sk;
	if (!sk)
		return 0;
	sk = bpf_sk_fullsock(sk);
	if (!sk)
		return 0;
	__u64 *netns = bpf_sk_storage_get(&awaiting_listener, sk, 0, 0);
	if (!netns)
		return 0;
	if (bpf_map_lookup_elem(&served_netns, netns)) {
		bpf_sk_storage_delete(&awaiting_listener, sk);
		return 0;
	}
	return 1;
}

SEC("cgroup_skb/egress")
int egress_tls_hello(struct __sk_buff *skb)
{
	/* The proxy's own upstream handshakes are not workloads' calls. */
	if (upstream_mark && skb->mark == upstream_mark)
		return 1;
	if (held_for_listener(skb))
		return 0;
	if (mode_of_skb(skb) != SHADOWAI_MODE_OFF)
		observe_tls_hello(skb);
	return 1;
}

SEC("cgroup_skb/ingress")
int ingress_dns_answer(struct __sk_buff *skb)
{
	if (mode_of_skb(skb) != SHADOWAI_MODE_OFF)
		observe_dns_answer(skb);
	return 1;
}

SEC("tp_btf/sched_process_exec")
int BPF_PROG(process_exec, struct task_struct *task, pid_t old_pid, struct linux_binprm *bprm)
{
	if (task_in_scope() && mode_of_task() != SHADOWAI_MODE_OFF)
		emit_exec();
	return 0;
}

/* Runs inside mkdir(2) on any cgroup hierarchy, before the new directory is activated: no process
 * can be in the cgroup yet. A cgroup v2 path with a mode of its own gets it here, so a restarted
 * unit is never unenforced, not even for the moment until the daemon would notice. */
SEC("tp_btf/cgroup_mkdir")
int BPF_PROG(cgroup_mkdir, struct cgroup *cgrp, const char *path)
{
	/* cgroup v2 is hierarchy 0 (the "0::" line of /proc/PID/cgroup); v1 hierarchies are not ours. */
	if (BPF_CORE_READ(cgrp, root, hierarchy_id) != 0)
		return 0;
	__u32 zero = 0;
	struct shadowai_cgroup_path *key = bpf_map_lookup_elem(&path_scratch, &zero);
	if (!key)
		return 0;
	__builtin_memset(key, 0, sizeof(*key));
	long length = bpf_probe_read_kernel_str(key->path, sizeof(key->path), path);
	/* Cut to size (or unreadable): not a path the daemon could have stored. */
	if (length <= 0 || length >= (long)sizeof(key->path))
		return 0;
	__u32 *mode = bpf_map_lookup_elem(&cgroup_path_modes, key);
	if (!mode)
		return 0;
	__u64 id = BPF_CORE_READ(cgrp, kn, id);
	__u32 value = *mode;
	bpf_map_update_elem(&cgroup_modes, &id, &value, BPF_ANY);
	return 0;
}
