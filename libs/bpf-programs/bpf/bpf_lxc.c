/* SPDX-License-Identifier: Apache-2.0 */
/* The endpoint programs, loaded once per node and attached to the host side of
 * every endpoint's veth. Which endpoint a packet belongs to comes from
 * cilium_lxc (by IP), its policy from cilium_policy_maps (by endpoint id):
 *   cil_from_container  tc ingress = packets the pod sends (egress policy);
 *                       the endpoint of the packet's source IP, which must be
 *                       the one on this veth (else DROP_INVALID_SIP)
 *   cil_to_container    tc egress  = packets delivered into the pod (ingress
 *                       policy); the endpoint of the destination IP (none:
 *                       DROP_EP_NOT_READY)
 *   cil_lxc_policy      in cilium_call_policy[endpoint id]: tail-called by the
 *                       sender's cil_from_container or the overlay on this
 *                       node; ingress policy of the destination IP's endpoint,
 *                       then straight into the pod (bpf_redirect_peer)
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
#include "lib/conntrack.h"
#include "lib/policy.h"

/* Node-wide, set at load time. Overlay: redirect traffic for nodes with a tunnel endpoint to this device. */
const volatile __u8 ENABLE_TUNNEL = 0;
const volatile __u32 TUNNEL_IFINDEX = 0;
/* Monitor aggregation: a trace per connection direction at most this often,
 * besides new connections and first-seen SYN/FIN/RST. */
const volatile __u64 TRACE_INTERVAL_NS = 5000000000ULL;

static __always_inline __u8 pkt_flags(const struct pkt *p)
{
	return p->family == FAMILY_IPV6 ? NOTIFY_F_IPV6 : 0;
}

static __always_inline __u8 trace_reason(int state)
{
	switch (state) {
	case CT_ESTABLISHED: return TRACE_REASON_ESTABLISHED;
	case CT_REPLY:       return TRACE_REASON_REPLY;
	case CT_RELATED:     return TRACE_REASON_RELATED;
	case CT_REOPENED:    return TRACE_REASON_REOPENED;
	default:             return TRACE_REASON_NEW;
	}
}

static __always_inline int rewrite_macs(struct __sk_buff *skb, const struct endpoint_info *ep)
{
	__u8 macs[12];

	__builtin_memcpy(macs, ep->mac, 6);
	__builtin_memcpy(macs + 6, ep->node_mac, 6);
	return bpf_skb_store_bytes(skb, 0, macs, sizeof(macs), 0);
}

struct arp_frame {
	__u8   eth_dst[6];
	__u8   eth_src[6];
	__be16 eth_proto;
	__be16 htype;
	__be16 ptype;
	__u8   hlen;
	__u8   plen;
	__be16 op;
	__u8   sha[6];
	__be32 spa;
	__u8   tha[6];
	__be32 tpa;
} __attribute__((packed));

/* The endpoint a packet from this veth claims to come from: the owner of its
 * source IP, if that endpoint is the one on this veth (a pod cannot borrow a
 * neighbour's identity by spoofing its address). */
static __always_inline struct endpoint_info *sender_endpoint(struct __sk_buff *skb, const __u32 *saddr,
							     __u8 family)
{
	struct endpoint_info *ep = endpoint_lookup(saddr, family);

	return ep && ep->ifindex == skb->ifindex ? ep : NULL;
}

static __always_inline int mac_set(const __u8 *mac)
{
	return mac[0] | mac[1] | mac[2] | mac[3] | mac[4] | mac[5];
}

/* Answer an ARP request from the pod with the MAC of its host-side veth (the
 * endpoint's node_mac), back out to the pod. Anything else (replies,
 * gratuitous ARP, IPv6 neighbour discovery, an endpoint registered without a
 * node MAC) goes to the node's stack. */
static __always_inline int arp_respond(struct __sk_buff *skb)
{
	struct arp_frame a;

	if (bpf_skb_load_bytes(skb, 0, &a, sizeof(a)) < 0)
		return TC_ACT_OK;
	if (a.eth_proto != bpf_htons(ETH_P_ARP) || a.htype != bpf_htons(1) ||
	    a.ptype != bpf_htons(ETH_P_IP) || a.hlen != 6 || a.plen != 4 ||
	    a.op != bpf_htons(1) || a.spa == a.tpa)
		return TC_ACT_OK;

	__u32 sender[4] = { a.spa };
	struct endpoint_info *ep = sender_endpoint(skb, sender, FAMILY_IPV4);

	if (!ep || !mac_set(ep->node_mac))
		return TC_ACT_OK;

	__be32 asked = a.tpa;
	__builtin_memcpy(a.eth_dst, a.sha, 6);
	__builtin_memcpy(a.tha, a.sha, 6);
	a.tpa = a.spa;
	a.spa = asked;
	a.op = bpf_htons(2);
	__builtin_memcpy(a.eth_src, ep->node_mac, 6);
	__builtin_memcpy(a.sha, ep->node_mac, 6);
	if (bpf_skb_store_bytes(skb, 0, &a, sizeof(a), 0) < 0)
		return TC_ACT_SHOT;
	return bpf_redirect(ep->ifindex, 0);
}

/* Account a packet of a known connection (established, reply, related).
 * Sets *remote to the peer identity recorded when the connection was admitted. */
static __always_inline void known_connection(const struct pkt *p, struct ct_result *ct, __u64 now,
					     __u32 *remote, int *report, __u16 *proxy_port)
{
	*proxy_port = 0;
	if (ct->state == CT_RELATED) {
		*report = 1;
		return;
	}
	*report = ct_update(ct->entry, p, ct->rx, now, TRACE_INTERVAL_NS);
	*remote = ct->entry->src_sec_id;
	if (ct->entry->flags & CT_F_PROXY)
		*proxy_port = bpf_ntohs(ct->entry->proxy_port);
}

/* A new (or reopened) connection: the endpoint's policy decides. Returns 0
 * to forward with *proxy_port set, or TC_ACT_SHOT after emitting the drop. */
static __always_inline int new_connection(struct __sk_buff *skb, const struct pkt *p, __u8 scope,
					  __u64 now, __u16 lxc_id, __u32 seclabel, __u32 remote,
					  __u16 *proxy_port)
{
	__u8 egress = scope == CT_EGRESS;
	__u8 dir = egress ? METRIC_DIR_EGRESS : METRIC_DIR_INGRESS;
	__u32 src = egress ? seclabel : remote;
	__u32 dst = egress ? remote : seclabel;
	struct policy_result pr;

	policy_lookup(lxc_id, remote, egress, p->t.proto, p->policy_port, p->len, &pr);
	send_policy_verdict(skb, lxc_id, src, dst, remote, pr.verdict ? pr.verdict : pr.proxy_port,
			    p->policy_port, pr.proxy_port, p->t.proto, dir, pr.match_type,
			    p->family == FAMILY_IPV6 ? VERDICT_F_IPV6 : 0);
	if (pr.verdict < 0)
		return send_drop(skb, -pr.verdict, dir, lxc_id, src, dst, egress ? 0 : lxc_id,
				 DROP_FILE_LXC, __LINE__, pkt_flags(p));
	if (ct_create(p, scope, now, remote, pr.proxy_port) < 0)
		return send_drop(skb, DROP_CT_CREATE_FAILED, dir, lxc_id, src, dst, 0,
				 DROP_FILE_LXC, __LINE__, pkt_flags(p));
	*proxy_port = pr.proxy_port;
	return 0;
}

/* To the node's stack, where the proxy's TPROXY rule picks it up by the mark. */
static __always_inline int to_proxy(struct __sk_buff *skb, __u16 proxy_port)
{
	skb->mark = ((__u32)proxy_port << 16) | MARK_MAGIC_TO_PROXY;
	return TC_ACT_OK;
}

static __always_inline int is_new(int state)
{
	return state == CT_NEW || state == CT_REOPENED;
}

SEC("tc")
int cil_from_container(struct __sk_buff *skb)
{
	struct pkt p = {};
	struct ct_result ct;
	__u32 remote = IDENTITY_WORLD;
	int report = 1;
	__u16 proxy_port = 0;

	/* A packet hairpinned to the proxy by cil_to_container of this veth. */
	if ((skb->mark & MARK_MAGIC_MASK) == MARK_MAGIC_TO_PROXY)
		return TC_ACT_OK;

	int ret = parse_packet(skb, &p);
	if (ret == PARSE_PASS)
		return arp_respond(skb);
	/* Not yet known whose packet it is: the drop names no endpoint. */
	if (ret < 0)
		return send_drop(skb, -ret, METRIC_DIR_EGRESS, 0, 0, 0, 0,
				 DROP_FILE_LXC, __LINE__, pkt_flags(&p));

	struct endpoint_info *self = sender_endpoint(skb, p.t.saddr, p.family);
	if (!self)
		return send_drop(skb, DROP_INVALID_SIP, METRIC_DIR_EGRESS, 0, 0, 0, 0,
				 DROP_FILE_LXC, __LINE__, pkt_flags(&p));
	__u16 lxc_id = self->lxc_id;
	__u32 seclabel = self->sec_identity;

	__u64 now = bpf_ktime_get_coarse_ns();
	struct endpoint_info *ep = endpoint_lookup(p.t.daddr, p.family);
	struct ipcache_value *info = NULL;

	ct_lookup(&p, CT_EGRESS, now, &ct);
	if (is_new(ct.state)) {
		if (ep) {
			remote = ep->sec_identity;
		} else {
			info = ipcache_lookup(p.t.daddr, p.family);
			if (info)
				remote = info->sec_identity;
		}
		ret = new_connection(skb, &p, CT_EGRESS, now, lxc_id, seclabel, remote, &proxy_port);
		if (ret)
			return ret;
	} else {
		known_connection(&p, &ct, now, &remote, &report, &proxy_port);
	}
	metrics_add(METRIC_REASON_FORWARDED, METRIC_DIR_EGRESS, p.len);

	if (proxy_port) {
		if (report)
			send_trace(skb, TRACE_TO_PROXY, trace_reason(ct.state), lxc_id, seclabel,
				   remote, 0, pkt_flags(&p));
		return to_proxy(skb, proxy_port);
	}

	if (ep) {
		if (report)
			send_trace(skb, TRACE_FROM_LXC, trace_reason(ct.state), lxc_id, seclabel,
				   remote, ep->lxc_id, pkt_flags(&p));
		if (rewrite_macs(skb, ep) < 0)
			return send_drop(skb, DROP_WRITE_ERROR, METRIC_DIR_EGRESS, lxc_id, seclabel,
					 remote, ep->lxc_id, DROP_FILE_LXC, __LINE__, pkt_flags(&p));
		skb->mark = mark_from_identity(seclabel);
		bpf_tail_call(skb, &cilium_call_policy, ep->lxc_id);
		/* No policy program registered for it: through its veth, where
		 * its cil_to_container applies the policy. */
		return bpf_redirect(ep->ifindex, 0);
	}

	if (ENABLE_TUNNEL) {
		if (!info)
			info = ipcache_lookup(p.t.daddr, p.family);
		if (info && info->tunnel_endpoint && !(info->flags & IPCACHE_F_SKIP_TUNNEL)) {
			if (report)
				send_trace(skb, TRACE_TO_OVERLAY, trace_reason(ct.state), lxc_id,
					   seclabel, remote, 0, pkt_flags(&p));
			skb->mark = mark_from_identity(seclabel);
			return bpf_redirect(TUNNEL_IFINDEX, 0);
		}
	}

	if (report)
		send_trace(skb, TRACE_TO_STACK, trace_reason(ct.state), lxc_id, seclabel, remote, 0,
			   pkt_flags(&p));
	return TC_ACT_OK;
}

/* Ingress policy and delivery into this endpoint. `peer`: the packet comes from
 * a tail call at tc ingress of another veth and goes straight into the pod
 * (bpf_redirect_peer); otherwise it is already on its way out of our veth. */
static __always_inline int to_endpoint(struct __sk_buff *skb, int peer)
{
	struct pkt p = {};
	struct ct_result ct;
	int report = 1;
	__u16 proxy_port = 0;

	/* ARP and neighbour discovery into the pod: not subject to policy (a tail
	 * call only ever brings IP packets). */
	int ret = parse_packet(skb, &p);
	if (ret == PARSE_PASS)
		return TC_ACT_OK;

	/* The sender's identity: handed over in the mark by the program that
	 * forwarded the packet here, or else (for new connections) the ipcache. */
	__u32 remote = identity_from_mark(skb->mark);
	skb->mark = 0;
	if (ret < 0)
		return send_drop(skb, -ret, METRIC_DIR_INGRESS, 0, remote, 0, 0,
				 DROP_FILE_LXC, __LINE__, pkt_flags(&p));

	struct endpoint_info *self = endpoint_lookup(p.t.daddr, p.family);
	if (!self)
		return send_drop(skb, DROP_EP_NOT_READY, METRIC_DIR_INGRESS, 0, remote, 0, 0,
				 DROP_FILE_LXC, __LINE__, pkt_flags(&p));
	__u16 lxc_id = self->lxc_id;
	__u32 seclabel = self->sec_identity;
	__u32 lxc_ifindex = self->ifindex;

	__u64 now = bpf_ktime_get_coarse_ns();
	ct_lookup(&p, CT_INGRESS, now, &ct);
	if (is_new(ct.state)) {
		if (!remote)
			remote = identity_of(p.t.saddr, p.family);
		ret = new_connection(skb, &p, CT_INGRESS, now, lxc_id, seclabel, remote, &proxy_port);
		if (ret)
			return ret;
	} else {
		known_connection(&p, &ct, now, &remote, &report, &proxy_port);
		if (!remote)
			remote = identity_of(p.t.saddr, p.family);
	}
	metrics_add(METRIC_REASON_FORWARDED, METRIC_DIR_INGRESS, p.len);

	if (proxy_port) {
		if (report)
			send_trace(skb, TRACE_TO_PROXY, trace_reason(ct.state), lxc_id, remote,
				   seclabel, lxc_id, pkt_flags(&p));
		/* Into the node's stack, where the proxy's TPROXY rule picks it
		 * up by the mark. */
		skb->mark = ((__u32)proxy_port << 16) | MARK_MAGIC_TO_PROXY;
		return peer ? TC_ACT_OK : bpf_redirect(lxc_ifindex, BPF_F_INGRESS);
	}
	if (report)
		send_trace(skb, TRACE_TO_LXC, trace_reason(ct.state), lxc_id, remote, seclabel,
			   lxc_id, pkt_flags(&p));
	return peer ? bpf_redirect_peer(lxc_ifindex, 0) : TC_ACT_OK;
}

SEC("tc")
int cil_to_container(struct __sk_buff *skb)
{
	return to_endpoint(skb, 0);
}

SEC("tc")
int cil_lxc_policy(struct __sk_buff *skb)
{
	return to_endpoint(skb, 1);
}

char _license[] SEC("license") = "GPL";
