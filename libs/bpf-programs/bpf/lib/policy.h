/* SPDX-License-Identifier: Apache-2.0 */
/* Per-endpoint policy lookup; the order is documented in common.h. */
#ifndef CILIUM_TS_POLICY_H
#define CILIUM_TS_POLICY_H

#include "common.h"

/* Keeps the full policy layouts in the BTF: the inner map template below
 * only refers to them through pointers, which the compiler may emit as
 * forward declarations, and libbpf needs the key and value sizes. */
struct policy_layouts {
	struct policy_key key;
	struct policy_entry entry;
	struct policy_prefix_set lengths;
};
struct policy_layouts *cilium_policy_layouts __attribute__((used));

/* The shape of every endpoint's policy map (the inner maps of
 * cilium_policy_maps); user space creates one per endpoint with this key,
 * value and flags. Hash maps in a map-in-map may differ in max_entries, so a
 * large policy gets a larger map. */
struct policy_map_inner {
	__uint(type, BPF_MAP_TYPE_HASH);
	__type(key, struct policy_key);
	__type(value, struct policy_entry);
	__uint(max_entries, POLICY_MAP_SIZE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH_OF_MAPS);
	__type(key, __u32);             /* endpoint id */
	__uint(max_entries, ENDPOINTS_MAX);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
	__array(values, struct policy_map_inner);
} cilium_policy_maps SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__type(key, __u32);             /* endpoint id */
	__type(value, struct policy_prefix_set);
	__uint(max_entries, ENDPOINTS_MAX);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} cilium_pol_lens SEC(".maps");

struct policy_result {
	__s32 verdict;          /* 0 allow, -DROP_POLICY, -DROP_POLICY_DENY */
	__u16 proxy_port;       /* host order, 0 = none */
	__u8 match_type;
};

static __always_inline __u8 match_type_of(const struct policy_entry *e, int wildcard_id)
{
	__u8 l4 = e->l4_prefix_len;   /* 8 = any proto, 16 = proto, > 16 port */

	if (wildcard_id)
		return l4 <= 8 ? POLICY_MATCH_ALL : l4 == 16 ? POLICY_MATCH_PROTO_ONLY : POLICY_MATCH_L4_ONLY;
	return l4 <= 8 ? POLICY_MATCH_L3_ONLY : l4 == 16 ? POLICY_MATCH_L3_PROTO : POLICY_MATCH_L3_L4;
}

/* One probe: the key for prefix length `len` (a constant after unrolling). */
#define POLICY_PROBE(len)								\
	if (!e && (lengths & (1ULL << (len)))) {					\
		key.l4_prefix_len = (len);						\
		key.protocol = (len) >= POLICY_L4_PROTO ? proto : 0;			\
		key.dport = (len) > POLICY_L4_PROTO ?					\
			dport & bpf_htons((0xffffU << (POLICY_L4_EXACT - (len))) & 0xffff) : 0; \
		e = bpf_map_lookup_elem(policy, &key);				\
	}

/* The longest match for one identity. */
static __always_inline struct policy_entry *policy_match(void *policy, __u32 identity, __u8 egress,
							  __u8 proto, __be16 dport, __u64 lengths)
{
	struct policy_key key = { .sec_label = identity, .egress = egress };
	struct policy_entry *e = NULL;

	POLICY_PROBE(32) POLICY_PROBE(31) POLICY_PROBE(30) POLICY_PROBE(29)
	POLICY_PROBE(28) POLICY_PROBE(27) POLICY_PROBE(26) POLICY_PROBE(25)
	POLICY_PROBE(24) POLICY_PROBE(23) POLICY_PROBE(22) POLICY_PROBE(21)
	POLICY_PROBE(20) POLICY_PROBE(19) POLICY_PROBE(18) POLICY_PROBE(17)
	POLICY_PROBE(16) POLICY_PROBE(8)
	return e;
}

/* The policy of endpoint `endpoint_id` for a peer. The endpoint's policy map
 * is read before its set of prefix lengths: user space widens the set, swaps
 * in the new map, then narrows the set, so a lookup that sees the new map also
 * sees all of its lengths. An endpoint without a policy map denies everything. */
static __always_inline void policy_lookup(__u32 endpoint_id, __u32 identity, __u8 egress, __u8 proto,
					  __be16 dport, __u32 bytes, struct policy_result *r)
{
	void *policy = bpf_map_lookup_elem(&cilium_policy_maps, &endpoint_id);
	struct policy_prefix_set *set = bpf_map_lookup_elem(&cilium_pol_lens, &endpoint_id);
	struct policy_entry *e_id = NULL;
	struct policy_entry *e_any = NULL;
	struct policy_entry *e = NULL;
	int wildcard = 0;

	if (policy && set) {
		__u64 lengths = set->lengths;

		e_id = policy_match(policy, identity, egress, proto, dport, lengths);
		if (identity)
			e_any = policy_match(policy, 0, egress, proto, dport, lengths);
	}

	r->proxy_port = 0;
	if (e_id) {
		e = e_id;
		wildcard = identity == 0;
		if (e_id->flags & POLICY_F_DENY)
			goto found;
	}
	if (e_any) {
		if ((e_any->flags & POLICY_F_DENY) || !e ||
		    e_any->l4_prefix_len > e->l4_prefix_len) {
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
