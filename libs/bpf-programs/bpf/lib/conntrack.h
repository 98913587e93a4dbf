/* SPDX-License-Identifier: Apache-2.0 */
/* Connection tracking: scopes and lookup order are described in common.h. */
#ifndef CILIUM_TS_CONNTRACK_H
#define CILIUM_TS_CONNTRACK_H

#include "common.h"
#include "maps.h"
#include "parse.h"

#define CT_NEW         0
#define CT_ESTABLISHED 1
#define CT_REPLY       2
#define CT_RELATED     3
#define CT_REOPENED    4

struct ct_result {
	struct ct_entry *entry;
	int state;
	int rx;                 /* the packet goes responder -> originator */
};

union ct_key {
	struct ct4_key v4;
	struct ct6_key v6;
};

static __always_inline void *ct_map(__u8 family)
{
	return family == FAMILY_IPV4 ? (void *)&cilium_ct4_global : (void *)&cilium_ct6_global;
}

static __always_inline void ct_key_of(union ct_key *k, const struct tuple *t, __u8 family,
				      __u8 scope, int reverse)
{
	__builtin_memset(k, 0, sizeof(*k));
	if (family == FAMILY_IPV4) {
		k->v4.saddr = reverse ? t->daddr[0] : t->saddr[0];
		k->v4.daddr = reverse ? t->saddr[0] : t->daddr[0];
		k->v4.sport = reverse ? t->dport : t->sport;
		k->v4.dport = reverse ? t->sport : t->dport;
		k->v4.nexthdr = t->proto;
		k->v4.flags = scope;
	} else {
		__builtin_memcpy(k->v6.saddr, reverse ? t->daddr : t->saddr, 16);
		__builtin_memcpy(k->v6.daddr, reverse ? t->saddr : t->daddr, 16);
		k->v6.sport = reverse ? t->dport : t->sport;
		k->v6.dport = reverse ? t->sport : t->dport;
		k->v6.nexthdr = t->proto;
		k->v6.flags = scope;
	}
}

static __always_inline struct ct_entry *ct_find(const struct tuple *t, __u8 family,
						__u8 scope, int reverse, __u64 now)
{
	union ct_key k;
	struct ct_entry *e;

	ct_key_of(&k, t, family, scope, reverse);
	e = bpf_map_lookup_elem(ct_map(family), &k);
	if (e && e->expires < now)
		return NULL;
	return e;
}

/* Look a packet up as seen by an endpoint in `scope`. */
static __always_inline void ct_lookup(const struct pkt *p, __u8 scope, __u64 now,
				      struct ct_result *r)
{
	r->entry = NULL;
	r->rx = 0;
	r->state = CT_NEW;

	if (p->is_icmp_error) {
		/* The embedded packet went the other way: look it up as a
		 * packet of the opposite scope. */
		if (ct_find(&p->inner, p->family, scope ^ 1, 0, now) ||
		    ct_find(&p->inner, p->family, scope, 1, now))
			r->state = CT_RELATED;
		return;
	}

	r->entry = ct_find(&p->t, p->family, scope, 0, now);
	if (r->entry) {
		r->state = CT_ESTABLISHED;
		if (p->t.proto == IPPROTO_TCP && (r->entry->flags & (CT_F_TX_CLOSING | CT_F_RX_CLOSING)) &&
		    (p->tcp_flags & (TCP_FLAG_SYN | TCP_FLAG_ACK)) == TCP_FLAG_SYN)
			r->state = CT_REOPENED;
		return;
	}
	r->entry = ct_find(&p->t, p->family, scope ^ 1, 1, now);
	if (r->entry) {
		r->state = CT_REPLY;
		r->rx = 1;
	}
}

static __always_inline __u64 ct_lifetime(const struct ct_entry *e, __u8 proto)
{
	if (proto != IPPROTO_TCP)
		return CT_LIFETIME_NONTCP;
	if (e->flags & (CT_F_TX_CLOSING | CT_F_RX_CLOSING))
		return CT_LIFETIME_CLOSE;
	if (e->flags & CT_F_ESTABLISHED)
		return CT_LIFETIME_TCP;
	return CT_LIFETIME_SYN;
}

static __always_inline void ct_apply_tcp_flags(struct ct_entry *e, __u8 flags, int rx)
{
	if (flags & TCP_FLAG_RST)
		e->flags |= CT_F_TX_CLOSING | CT_F_RX_CLOSING;
	else if (flags & TCP_FLAG_FIN)
		e->flags |= rx ? CT_F_RX_CLOSING : CT_F_TX_CLOSING;
	if ((flags & (TCP_FLAG_ACK | TCP_FLAG_SYN)) == TCP_FLAG_ACK)
		e->flags |= CT_F_ESTABLISHED;
}

/* Account a packet of a known connection. Counters are plain adds: a lost
 * increment under concurrency is cheaper than a locked instruction per packet. Returns 1 when a trace event is due:
 * a report flag seen for the first time in this direction, or the direction's
 * last report older than interval_ns. */
static __always_inline int ct_update(struct ct_entry *e, const struct pkt *p, int rx,
				     __u64 now, __u64 interval_ns)
{
	int report = 0;
	__u8 flags = p->tcp_flags & TCP_REPORT_FLAGS;

	if (rx) {
		e->rx_packets += 1;
		e->rx_bytes += p->len;
		if (flags & ~e->rx_flags_seen) {
			e->rx_flags_seen |= flags;
			report = 1;
		}
		if (now - e->last_rx_report > interval_ns)
			report = 1;
		if (report)
			e->last_rx_report = now;
	} else {
		e->tx_packets += 1;
		e->tx_bytes += p->len;
		if (flags & ~e->tx_flags_seen) {
			e->tx_flags_seen |= flags;
			report = 1;
		}
		if (now - e->last_tx_report > interval_ns)
			report = 1;
		if (report)
			e->last_tx_report = now;
	}
	if (p->t.proto == IPPROTO_TCP) {
		__u8 before = e->flags;
		ct_apply_tcp_flags(e, p->tcp_flags, rx);
		if (e->flags != before)
			e->expires = now + ct_lifetime(e, IPPROTO_TCP);
	}
	/* Refresh the deadline at most once a second to keep the cache line clean. */
	__u64 deadline = now + ct_lifetime(e, p->t.proto);
	if (deadline > e->expires + 1000000000ULL)
		e->expires = deadline;
	return report;
}

static __always_inline int ct_create(const struct pkt *p, __u8 scope, __u64 now,
				     __u32 remote_identity, __u16 proxy_port)
{
	union ct_key k;
	struct ct_entry e = {
		.tx_packets = 1,
		.tx_bytes = p->len,
		.last_tx_report = now,
		.src_sec_id = remote_identity,
		.proxy_port = bpf_htons(proxy_port),
		.tx_flags_seen = p->tcp_flags & TCP_REPORT_FLAGS,
		.flags = proxy_port ? CT_F_PROXY : 0,
	};

	if (p->t.proto == IPPROTO_TCP)
		ct_apply_tcp_flags(&e, p->tcp_flags, 0);
	e.expires = now + ct_lifetime(&e, p->t.proto);
	ct_key_of(&k, &p->t, p->family, scope, 0);
	return bpf_map_update_elem(ct_map(p->family), &k, &e, BPF_ANY);
}

#endif
