// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Observation programs of shadowai-scan: they report, they never block or change traffic (every
 * handler returns 1).
 *
 *  connect4 / connect6   cgroup/connect*   connect() on TCP and UDP sockets
 *  sendmsg4 / sendmsg6   cgroup/sendmsg*   unconnected UDP (DNS queries, QUIC on 443)
 *  egress_tls_hello      cgroup_skb/egress the first bytes of an outgoing TLS ClientHello (SNI)
 *  ingress_dns_answer    cgroup_skb/ingress UDP datagrams from port 53 (DNS answers)
 *  process_exec          tp_btf/sched_process_exec  execve() in the scope (to read new environments)
 *
 * Parsing of ClientHellos and DNS answers happens in user space on the copied bytes. */
#include "observe_common.bpf.h"

#include <bpf/bpf_tracing.h>

char LICENSE[] SEC("license") = "Dual BSD/GPL";

/* Where a running shadowaid's enforce mode redirected a connect (the daemon's own map, shared when
 * the scan finds it pinned; empty otherwise). The daemon's connect hook runs before this one (it
 * is attached deeper, or earlier), so without it an enforced workload's calls would all seem to go
 * to the proxy's loopback address. */
struct {
	__uint(type, BPF_MAP_TYPE_SK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct shadowai_original_dst);
} original_dst SEC(".maps");

static __always_inline const struct shadowai_original_dst *redirected_by_shadowaid(struct bpf_sock_addr *ctx)
{
	struct bpf_sock *sk = ctx->sk;
	if (!sk)
		return NULL;
	return bpf_sk_storage_get(&original_dst, sk, 0, 0);
}

SEC("cgroup/connect4")
int connect4(struct bpf_sock_addr *ctx)
{
	emit_sock_addr(ctx, SHADOWAI_EV_CONNECT, false, redirected_by_shadowaid(ctx));
	return 1;
}

SEC("cgroup/connect6")
int connect6(struct bpf_sock_addr *ctx)
{
	emit_sock_addr(ctx, SHADOWAI_EV_CONNECT, true, redirected_by_shadowaid(ctx));
	return 1;
}

SEC("cgroup/sendmsg4")
int sendmsg4(struct bpf_sock_addr *ctx)
{
	emit_sock_addr(ctx, SHADOWAI_EV_SENDMSG, false, NULL);
	return 1;
}

SEC("cgroup/sendmsg6")
int sendmsg6(struct bpf_sock_addr *ctx)
{
	emit_sock_addr(ctx, SHADOWAI_EV_SENDMSG, true, NULL);
	return 1;
}

SEC("cgroup_skb/egress")
int egress_tls_hello(struct __sk_buff *skb)
{
	observe_tls_hello(skb);
	return 1;
}

SEC("cgroup_skb/ingress")
int ingress_dns_answer(struct __sk_buff *skb)
{
	observe_dns_answer(skb);
	return 1;
}

SEC("tp_btf/sched_process_exec")
int BPF_PROG(process_exec, struct task_struct *task, pid_t old_pid, struct linux_binprm *bprm)
{
	if (task_in_scope())
		emit_exec();
	return 0;
}
