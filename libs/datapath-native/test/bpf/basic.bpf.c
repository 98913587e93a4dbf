/* The smallest program of each attach kind: attach/detach tests and the test-run baseline. */
#include "common.h"

SEC("tc")
int tc_pass(struct __sk_buff *skb)
{
	return TC_ACT_OK;
}

SEC("tc")
int tc_drop(struct __sk_buff *skb)
{
	return TC_ACT_SHOT;
}

SEC("xdp")
int xdp_pass(struct xdp_md *ctx)
{
	return XDP_PASS;
}

SEC("cgroup/connect4")
int connect4_allow(struct bpf_sock_addr *ctx)
{
	return 1;
}

/* Refuses every IPv4 connect() from the cgroup: the caller sees EPERM. */
SEC("cgroup/connect4")
int connect4_deny(struct bpf_sock_addr *ctx)
{
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
