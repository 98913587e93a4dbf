/* SPDX-License-Identifier: Apache-2.0 */
/* Per-endpoint policy lookup; the order is documented in common.h. */
#ifndef CILIUM_TS_POLICY_H
#define CILIUM_TS_POLICY_H

#include "common.h"

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__type(key, struct policy_key);
	__type(value, struct policy_entry);
	__uint(max_entries, 16384);
	__uint(map_flags, BPF_F_NO_PREALLOC);
} cilium_policy SEC(".maps");

struct policy_result {
	__s32 verdict;          /* 0 allow, -DROP_POLICY, -DROP_POLICY_DENY */
	__u16 proxy_port;       /* host order, 0 = none */
	__u8 match_type;
};

static __always_inline __u8 match_type_of(const struct policy_entry *e, int wildcard_id)
{
	__u8 l4 = e->lpm_prefix_len;   /* 8 = any proto, 16 = proto, > 16 port */

	if (wildcard_id)
		return l4 <= 8 ? POLICY_MATCH_ALL : l4 == 16 ? POLICY_MATCH_PROTO_ONLY : POLICY_MATCH_L4_ONLY;
	return l4 <= 8 ? POLICY_MATCH_L3_ONLY : l4 == 16 ? POLICY_MATCH_L3_PROTO : POLICY_MATCH_L3_L4;
}

static __always_inline void policy_lookup(__u32 identity, __u8 egress, __u8 proto,
					  __be16 dport, __u32 bytes, struct policy_result *r)
{
	struct policy_key key = {
		.prefixlen = POLICY_FULL_PREFIX_BITS,
		.sec_label = identity,
		.egress = egress,
		.protocol = proto,
		.dport = dport,
	};
	struct policy_entry *e_id = bpf_map_lookup_elem(&cilium_policy, &key);
	key.sec_label = 0;
	struct policy_entry *e_any = bpf_map_lookup_elem(&cilium_policy, &key);
	struct policy_entry *e = NULL;
	int wildcard = 0;

	r->proxy_port = 0;
	if (e_id) {
		e = e_id;
		if (e_id->flags & POLICY_F_DENY)
			goto found;
	}
	if (e_any) {
		if ((e_any->flags & POLICY_F_DENY) || !e ||
		    e_any->lpm_prefix_len > e->lpm_prefix_len) {
			e = e_any;
			wildcard = 1;
		}
	}
	if (!e) {
		r->verdict = -DROP_POLICY;
		r->match_type = POLICY_MATCH_NONE;
		return;
	}
found:
	__sync_fetch_and_add(&e->packets, 1);
	__sync_fetch_and_add(&e->bytes, bytes);
	r->match_type = match_type_of(e, wildcard);
	if (e->flags & POLICY_F_DENY) {
		r->verdict = -DROP_POLICY_DENY;
		return;
	}
	r->verdict = 0;
	r->proxy_port = bpf_ntohs(e->proxy_port);
}

#endif
