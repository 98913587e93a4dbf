/* SPDX-License-Identifier: Apache-2.0 */
/* The host program, attached at tc ingress of the node's network devices
 * (cil_from_netdev): classifies what arrives from the network with the
 * ipcache (remote-node, a remote endpoint's identity in native routing, or
 * world) and hands the identity to cil_to_container in skb->mark. Traffic the
 * node itself sends to its endpoints carries no mark; cil_to_container finds
 * the node's own addresses in the ipcache as the host identity. */
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#include "lib/common.h"
#include "lib/maps.h"
#include "lib/parse.h"
#include "lib/events.h"
#include "lib/ipcache.h"

SEC("tc")
int cil_from_netdev(struct __sk_buff *skb)
{
	struct pkt p = {};
	int ret = parse_packet(skb, &p);

	/* Not ours to judge: the stack drops what it cannot handle. */
	if (ret != PARSE_IP)
		return TC_ACT_OK;

	__u32 src = identity_of(p.t.saddr, p.family);
	/* Nothing from the network speaks for the node itself. */
	if (src == IDENTITY_HOST)
		src = IDENTITY_WORLD;
	skb->mark = mark_from_identity(src);
	metrics_add(METRIC_REASON_FORWARDED, METRIC_DIR_INGRESS, p.len);
	if (p.t.proto == IPPROTO_TCP && (p.tcp_flags & TCP_REPORT_FLAGS))
		send_trace(skb, TRACE_FROM_NETWORK, TRACE_REASON_UNKNOWN, 0, src,
			   identity_of(p.t.daddr, p.family), 0,
			   p.family == FAMILY_IPV6 ? NOTIFY_F_IPV6 : 0);
	return TC_ACT_OK;
}

char _license[] SEC("license") = "GPL";
