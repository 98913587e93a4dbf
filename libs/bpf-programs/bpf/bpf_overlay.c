/* SPDX-License-Identifier: Apache-2.0 */
/* The overlay program, attached to the node's external (collect_md) VXLAN
 * device:
 *   cil_to_overlay    tc egress:  set the tunnel key, the remote node from the
 *                     ipcache and the source identity in the VNI
 *   cil_from_overlay  tc ingress: read the tunnel key and deliver to the local
 *                     endpoint with the identity from the VNI in skb->mark
 */
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

/* TTL of the outer header. */
const volatile __u8 TUNNEL_TTL = 64;

#ifndef PACKET_HOST
#define PACKET_HOST 0
#endif

/* Overlay programs keep no connection state, so they trace only packets that
 * open or close TCP connections; per-connection traces come from the
 * endpoint programs. */
static __always_inline int worth_tracing(const struct pkt *p)
{
	return p->t.proto == IPPROTO_TCP && (p->tcp_flags & TCP_REPORT_FLAGS);
}

SEC("tc")
int cil_to_overlay(struct __sk_buff *skb)
{
	struct pkt p = {};
	int ret = parse_packet(skb, &p);

	if (ret == PARSE_PASS)
		return TC_ACT_OK;
	__u32 src = identity_from_mark(skb->mark);
	if (ret < 0)
		return send_drop(skb, -ret, METRIC_DIR_EGRESS, 0, src, 0, 0, DROP_FILE_OVERLAY,
				 __LINE__, 0);
	if (!src)
		src = identity_of(p.t.saddr, p.family);

	struct ipcache_value *info = ipcache_lookup(p.t.daddr, p.family);
	__u8 flags = p.family == FAMILY_IPV6 ? NOTIFY_F_IPV6 : 0;
	if (!info || !info->tunnel_endpoint)
		return send_drop(skb, DROP_NO_TUNNEL_ENDPOINT, METRIC_DIR_EGRESS, 0, src,
				 info ? info->sec_identity : 0, 0, DROP_FILE_OVERLAY, __LINE__, flags);

	struct bpf_tunnel_key key = {};
	key.remote_ipv4 = bpf_ntohl(info->tunnel_endpoint);
	key.tunnel_id = src & VNI_IDENTITY_MASK;
	key.tunnel_ttl = TUNNEL_TTL;
	if (bpf_skb_set_tunnel_key(skb, &key, sizeof(key), BPF_F_ZERO_CSUM_TX) < 0)
		return send_drop(skb, DROP_WRITE_ERROR, METRIC_DIR_EGRESS, 0, src,
				 info->sec_identity, 0, DROP_FILE_OVERLAY, __LINE__, flags);
	skb->mark = 0;
	metrics_add(METRIC_REASON_FORWARDED, METRIC_DIR_EGRESS, p.len);
	if (worth_tracing(&p))
		send_trace(skb, TRACE_TO_OVERLAY, TRACE_REASON_UNKNOWN, 0, src, info->sec_identity,
			   0, flags);
	return TC_ACT_OK;
}

SEC("tc")
int cil_from_overlay(struct __sk_buff *skb)
{
	struct pkt p = {};
	struct bpf_tunnel_key key = {};
	__u32 src = 0;

	if (bpf_skb_get_tunnel_key(skb, &key, sizeof(key), 0) == 0)
		src = key.tunnel_id & VNI_IDENTITY_MASK;

	int ret = parse_packet(skb, &p);
	if (ret == PARSE_PASS)
		return TC_ACT_OK;
	if (ret < 0)
		return send_drop(skb, -ret, METRIC_DIR_INGRESS, 0, src, 0, 0, DROP_FILE_OVERLAY,
				 __LINE__, 0);
	__u8 flags = p.family == FAMILY_IPV6 ? NOTIFY_F_IPV6 : 0;
	if (!src)
		return send_drop(skb, DROP_INVALID_VNI, METRIC_DIR_INGRESS, 0, 0, 0, 0,
				 DROP_FILE_OVERLAY, __LINE__, flags);

	metrics_add(METRIC_REASON_FORWARDED, METRIC_DIR_INGRESS, p.len);
	struct endpoint_info *ep = endpoint_lookup(p.t.daddr, p.family);
	if (worth_tracing(&p))
		send_trace(skb, TRACE_FROM_OVERLAY, TRACE_REASON_UNKNOWN, 0, src,
			   ep ? ep->sec_identity : identity_of(p.t.daddr, p.family),
			   ep ? ep->lxc_id : 0, flags);
	skb->mark = mark_from_identity(src);
	if (ep) {
		__u8 macs[12];
		__builtin_memcpy(macs, ep->mac, 6);
		__builtin_memcpy(macs + 6, ep->node_mac, 6);
		if (bpf_skb_store_bytes(skb, 0, macs, sizeof(macs), 0) < 0)
			return send_drop(skb, DROP_WRITE_ERROR, METRIC_DIR_INGRESS, 0, src,
					 ep->sec_identity, ep->lxc_id, DROP_FILE_OVERLAY, __LINE__,
					 flags);
		/* The endpoint's ingress policy and delivery; without it, through
		 * its veth and cil_to_container. */
		bpf_tail_call(skb, &cilium_call_policy, ep->lxc_id);
		return bpf_redirect(ep->ifindex, 0);
	}
	/* For the node itself: the inner MAC is not the device's, so tell the
	 * stack the packet is ours. */
	bpf_skb_change_type(skb, PACKET_HOST);
	return TC_ACT_OK;
}

char _license[] SEC("license") = "GPL";
