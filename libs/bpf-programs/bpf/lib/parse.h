/* SPDX-License-Identifier: Apache-2.0 */
/* Bounds-checked parsing of Ethernet, IPv4, IPv6 and the L4 headers into a
 * struct pkt. Anything truncated or malformed is an error with a drop reason;
 * nothing is guessed. */
#ifndef CILIUM_TS_PARSE_H
#define CILIUM_TS_PARSE_H

#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/in.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "common.h"

#ifndef IPPROTO_SCTP
#define IPPROTO_SCTP 132
#endif
#define NEXTHDR_HOP      0
#define NEXTHDR_ROUTING  43
#define NEXTHDR_FRAGMENT 44
#define NEXTHDR_AUTH     51
#define NEXTHDR_NONE     59
#define NEXTHDR_DEST     60
#define IPV6_MAX_EXT_HEADERS 4

#define ICMP_ECHOREPLY 0
#define ICMP_DEST_UNREACH 3
#define ICMP_ECHO 8
#define ICMP_TIME_EXCEEDED 11
#define ICMP_PARAMETERPROB 12
#define ICMPV6_DEST_UNREACH 1
#define ICMPV6_PARAMPROB 4
#define ICMPV6_ECHO_REQUEST 128
#define ICMPV6_ECHO_REPLY 129
#define ICMPV6_NDP_FIRST 133
#define ICMPV6_NDP_LAST 137

/* What the caller does with a parsed packet. */
#define PARSE_IP     0  /* an IPv4/IPv6 packet described by struct pkt */
#define PARSE_PASS   1  /* ARP, NDP: not subject to policy */

struct tuple {
	__u32 saddr[4];
	__u32 daddr[4];
	__be16 sport;
	__be16 dport;
	__u8 proto;
	__u8 pad[3];
};

struct pkt {
	struct tuple t;
	struct tuple inner;     /* ICMP errors: the embedded packet */
	__u32 len;
	__be16 policy_port;     /* dport, or the ICMP type for ICMP */
	__u8 family;
	__u8 tcp_flags;
	__u8 is_icmp_error;
	__u8 pad[3];
};

/* Copy a header out of the packet: directly from the linear data when it is
 * there (no helper call), through bpf_skb_load_bytes otherwise. n is a
 * compile-time constant at every call site. */
/* Read skb->data / data_end with one load each, so the compiler cannot keep
 * a modified context pointer around (the verifier rejects those). */
static __always_inline void *ctx_data(struct __sk_buff *skb)
{
	void *ptr;

	asm volatile("%0 = *(u32 *)(%1 + %2)" : "=r"(ptr)
		     : "r"(skb), "i"(__builtin_offsetof(struct __sk_buff, data)));
	return ptr;
}

static __always_inline void *ctx_data_end(struct __sk_buff *skb)
{
	void *ptr;

	asm volatile("%0 = *(u32 *)(%1 + %2)" : "=r"(ptr)
		     : "r"(skb), "i"(__builtin_offsetof(struct __sk_buff, data_end)));
	return ptr;
}

static __always_inline int load_hdr(struct __sk_buff *skb, __u32 off, void *buf, const __u32 n)
{
	void *data = ctx_data(skb);
	void *end = ctx_data_end(skb);

	if (off > 1024)
		return -1;
	if (data + off + n > end)
		return bpf_skb_load_bytes(skb, off, buf, n);
	__builtin_memcpy(buf, data + off, n);
	return 0;
}

static __always_inline void copy_addr4(__u32 *dst, __be32 a)
{
	dst[0] = a; dst[1] = 0; dst[2] = 0; dst[3] = 0;
}

/* Ports of an L4 header at off (both families); is_inner makes ICMP echo
 * tuples describe the packet the error was about. */
static __always_inline int parse_l4(struct __sk_buff *skb, __u32 off, __u32 end,
				    __u8 family, struct tuple *t, struct pkt *p, int inner)
{
	__u8 buf[20];

	switch (t->proto) {
	case IPPROTO_TCP: {
		/* For an embedded packet only the first 8 bytes are guaranteed. */
		__u32 need = inner ? 8 : 20;
		if (off + need > end)
			return -DROP_INVALID;
		if (inner) {
			if (load_hdr(skb, off, buf, 8) < 0)
				return -DROP_INVALID;
		} else {
			if (load_hdr(skb, off, buf, 20) < 0)
				return -DROP_INVALID;
			__u32 doff = (buf[12] >> 4) * 4;
			if (doff < 20 || off + doff > end)
				return -DROP_INVALID;
			p->tcp_flags = buf[13];
		}
		t->sport = *(__be16 *)&buf[0];
		t->dport = *(__be16 *)&buf[2];
		break;
	}
	case IPPROTO_UDP:
	case IPPROTO_SCTP:
		/* UDP header and SCTP common header both start with the ports;
		 * SCTP's is 12 bytes, only 8 are embedded in ICMP errors. */
		if (off + (t->proto == IPPROTO_SCTP && !inner ? 12 : 8) > end)
			return -DROP_INVALID;
		if (load_hdr(skb, off, buf, 8) < 0)
			return -DROP_INVALID;
		if (t->proto == IPPROTO_UDP && !inner &&
		    bpf_ntohs(*(__be16 *)&buf[4]) < 8)
			return -DROP_INVALID;
		t->sport = *(__be16 *)&buf[0];
		t->dport = *(__be16 *)&buf[2];
		break;
	case IPPROTO_ICMP:
	case IPPROTO_ICMPV6: {
		if ((family == FAMILY_IPV4) != (t->proto == IPPROTO_ICMP))
			return -DROP_UNKNOWN_L4;
		if (off + 8 > end)
			return -DROP_INVALID;
		if (load_hdr(skb, off, buf, 8) < 0)
			return -DROP_INVALID;
		__u8 type = buf[0];
		__be16 id = *(__be16 *)&buf[4];
		__u8 echo_req = family == FAMILY_IPV4 ? ICMP_ECHO : ICMPV6_ECHO_REQUEST;
		__u8 echo_rep = family == FAMILY_IPV4 ? ICMP_ECHOREPLY : ICMPV6_ECHO_REPLY;
		/* Echo request and reply tuples mirror each other, so a reply
		 * finds its request's entry: request {id, 0}, reply {0, id}. */
		if (type == echo_req) {
			t->sport = id;
			t->dport = 0;
		} else if (type == echo_rep) {
			t->sport = 0;
			t->dport = id;
		} else {
			t->sport = 0;
			t->dport = bpf_htons(type);
		}
		if (!inner) {
			p->policy_port = bpf_htons(type);
			if (family == FAMILY_IPV4)
				p->is_icmp_error = type == ICMP_DEST_UNREACH ||
						   type == ICMP_TIME_EXCEEDED ||
						   type == ICMP_PARAMETERPROB;
			else
				p->is_icmp_error = type >= ICMPV6_DEST_UNREACH &&
						   type <= ICMPV6_PARAMPROB;
			if (family == FAMILY_IPV6 && type >= ICMPV6_NDP_FIRST &&
			    type <= ICMPV6_NDP_LAST)
				return PARSE_PASS;
		}
		break;
	}
	default:
		return -DROP_CT_UNKNOWN_PROTO;
	}
	return PARSE_IP;
}

/* IPv4 header at off; fills t and returns the L4 offset (> 0) or -DROP_*. */
static __always_inline int parse_ipv4(struct __sk_buff *skb, __u32 off, __u32 end,
				      struct tuple *t, int inner)
{
	struct iphdr ip;

	if (off + sizeof(ip) > end)
		return -DROP_INVALID;
	if (load_hdr(skb, off, &ip, sizeof(ip)) < 0)
		return -DROP_INVALID;
	if (ip.version != 4 || ip.ihl < 5)
		return -DROP_INVALID;
	__u32 hlen = ip.ihl * 4;
	__u32 tot = bpf_ntohs(ip.tot_len);
	if (!inner && (tot < hlen || off + tot > end))
		return -DROP_INVALID;
	/* Non-first fragments carry no ports to classify them by. */
	if (bpf_ntohs(ip.frag_off) & 0x1FFF)
		return -DROP_FRAG_NOSUPPORT;
	copy_addr4(t->saddr, ip.saddr);
	copy_addr4(t->daddr, ip.daddr);
	t->proto = ip.protocol;
	return off + hlen;
}

static __always_inline int parse_ipv6(struct __sk_buff *skb, __u32 off, __u32 end,
				      struct tuple *t, int inner)
{
	struct ipv6hdr ip6;

	if (off + sizeof(ip6) > end)
		return -DROP_INVALID;
	if (load_hdr(skb, off, &ip6, sizeof(ip6)) < 0)
		return -DROP_INVALID;
	if (ip6.version != 6)
		return -DROP_INVALID;
	if (!inner && off + sizeof(ip6) + bpf_ntohs(ip6.payload_len) > end)
		return -DROP_INVALID;
	__builtin_memcpy(t->saddr, &ip6.saddr, 16);
	__builtin_memcpy(t->daddr, &ip6.daddr, 16);

	__u8 nh = ip6.nexthdr;
	__u32 l4 = off + sizeof(ip6);
#pragma unroll
	for (int i = 0; i < IPV6_MAX_EXT_HEADERS; i++) {
		__u8 eh[2];
		if (nh != NEXTHDR_HOP && nh != NEXTHDR_ROUTING && nh != NEXTHDR_DEST &&
		    nh != NEXTHDR_FRAGMENT && nh != NEXTHDR_AUTH)
			break;
		if (l4 + 8 > end)
			return -DROP_INVALID_EXTHDR;
		if (load_hdr(skb, l4, eh, 2) < 0)
			return -DROP_INVALID_EXTHDR;
		if (nh == NEXTHDR_FRAGMENT) {
			__be16 fo;
			if (load_hdr(skb, l4 + 2, &fo, 2) < 0)
				return -DROP_INVALID_EXTHDR;
			if (bpf_ntohs(fo) & 0xFFF8)
				return -DROP_FRAG_NOSUPPORT;
			l4 += 8;
		} else if (nh == NEXTHDR_AUTH) {
			l4 += (eh[1] + 2) * 4;
		} else {
			l4 += (eh[1] + 1) * 8;
		}
		nh = eh[0];
	}
	if (nh == NEXTHDR_HOP || nh == NEXTHDR_ROUTING || nh == NEXTHDR_DEST ||
	    nh == NEXTHDR_FRAGMENT || nh == NEXTHDR_AUTH)
		return -DROP_INVALID_EXTHDR;
	t->proto = nh;
	return l4;
}

/* Parse the packet from the Ethernet header on. Returns PARSE_IP, PARSE_PASS
 * or -DROP_*. */
static __always_inline int parse_packet(struct __sk_buff *skb, struct pkt *p)
{
	__u32 end = skb->len;
	__be16 proto;
	int l4;

	p->len = skb->len;
	if (end < ETH_HLEN)
		return -DROP_INVALID;
	if (load_hdr(skb, 12, &proto, 2) < 0)
		return -DROP_INVALID;

	switch (proto) {
	case bpf_htons(ETH_P_ARP):
		return PARSE_PASS;
	case bpf_htons(ETH_P_IP):
		p->family = FAMILY_IPV4;
		l4 = parse_ipv4(skb, ETH_HLEN, end, &p->t, 0);
		break;
	case bpf_htons(ETH_P_IPV6):
		p->family = FAMILY_IPV6;
		l4 = parse_ipv6(skb, ETH_HLEN, end, &p->t, 0);
		break;
	default:
		return -DROP_UNKNOWN_L3;
	}
	if (l4 < 0)
		return l4;
	/* Keep the offset provably small for the verifier. */
	if (l4 > 512)
		return -DROP_INVALID_EXTHDR;

	int ret = parse_l4(skb, l4, end, p->family, &p->t, p, 0);
	if (ret != PARSE_IP)
		return ret;
	if (p->t.proto != IPPROTO_ICMP && p->t.proto != IPPROTO_ICMPV6)
		p->policy_port = p->t.dport;

	if (p->is_icmp_error) {
		/* The embedded packet follows the 8-byte ICMP header. */
		__u32 ioff = l4 + 8;
		int il4 = p->family == FAMILY_IPV4 ?
			  parse_ipv4(skb, ioff, end, &p->inner, 1) :
			  parse_ipv6(skb, ioff, end, &p->inner, 1);
		if (il4 < 0 || il4 > 1024) {
			/* An error about something we cannot identify relates
			 * to nothing: classify it as a new flow of its own. */
			p->is_icmp_error = 0;
			return PARSE_IP;
		}
		if (parse_l4(skb, il4, end, p->family, &p->inner, p, 1) != PARSE_IP)
			p->is_icmp_error = 0;
	}
	return PARSE_IP;
}

#endif
