/* Types shared by the daemon's BPF programs (bpf/daemon.bpf.c) and the C++ code that manages
 * their maps: modes per cgroup, the original destination of a redirected connection, and the key
 * the proxy uses to find it for an accepted socket. */
#ifndef SHADOWAI_ENFORCE_TYPES_H
#define SHADOWAI_ENFORCE_TYPES_H

#ifdef __BPF__
/* vmlinux.h provides __u8 .. __u64 */
#else
#include <linux/types.h>
#endif

/* Values of the cgroup_modes map. A cgroup without its own entry inherits its nearest ancestor's;
 * with no entry on the way up, the programs use their default (detect). */
enum shadowai_mode {
	SHADOWAI_MODE_OFF = 0,
	SHADOWAI_MODE_DETECT = 1,
	SHADOWAI_MODE_ENFORCE = 2,
};

/* Key of cgroup_path_modes: a cgroup's path from the cgroup v2 root ("/system.slice/x.service"),
 * NUL-padded to the full size. The cgroup_mkdir tracepoint looks a new cgroup's path up there and
 * gives it its mode before any process can enter it. Paths of SHADOWAI_CGROUP_PATH_MAX - 1 bytes or
 * more do not fit; the daemon applies those once a second instead. */
#define SHADOWAI_CGROUP_PATH_MAX 256
struct shadowai_cgroup_path {
	char path[SHADOWAI_CGROUP_PATH_MAX];
};

/* Where an enforced connect() was going before it was rewritten to the proxy. Kept in socket
 * local storage (lives and dies with the socket; getpeername() reads it) and copied into
 * redirected_flows once the kernel has picked the client's source port. */
struct shadowai_original_dst {
	__u8 addr[16];   /* IPv4 as v4-mapped IPv6, network byte order */
	__u16 port;      /* host byte order */
	__u16 family;    /* AF_INET or AF_INET6 of the destination as given */
	__u32 pid;       /* tgid of the connecting task */
	__u64 cgroup_id;
};

/* The accepted socket's view of a redirected connection: client address and port (the peer),
 * the proxy address and port it reached (the local end), and the network namespace, so two
 * namespaces or a reused port cannot collide. Addresses are v4-mapped for IPv4. */
struct shadowai_flow_key {
	__u8 client_addr[16];
	__u8 proxy_addr[16];
	__u16 client_port;  /* host byte order */
	__u16 proxy_port;   /* host byte order */
	__u32 pad;
	__u64 netns_cookie;
};

#endif /* SHADOWAI_ENFORCE_TYPES_H */
