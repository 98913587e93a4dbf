/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The one header that defines every map key, map value and event layout of the
 * cilium-ts datapath. Every struct here is fixed-size and explicitly padded so
 * that its layout is the same in C, in the BTF of the compiled objects and in
 * the TypeScript codecs (src/codecs/), which a test checks against the BTF.
 *
 * Byte order: addresses and ports are in network byte order (as they appear in
 * the packet); every other integer is in host byte order.
 */
#ifndef CILIUM_TS_COMMON_H
#define CILIUM_TS_COMMON_H

#include <linux/types.h>

/* ---------------------------------------------------------------- identities */
#define IDENTITY_UNKNOWN      0
#define IDENTITY_HOST         1
#define IDENTITY_WORLD        2
#define IDENTITY_REMOTE_NODE  6

/* ---------------------------------------------------------------- families */
#define FAMILY_IPV4 4
#define FAMILY_IPV6 6

/* ---------------------------------------------------------------- ipcache
 * cilium_ipcache: LPM trie from an IP prefix to what is known about it.
 * The LPM prefix length counts the bits after `prefixlen`: 32 bits for
 * {cluster_id, pad, family} followed by the IP prefix, so a /24 IPv4 prefix is
 * prefixlen 56 and a host IPv6 address is 160.
 */
#define IPCACHE_STATIC_PREFIX_BITS 32

struct ipcache_key {
	__u32 prefixlen;
	__u16 cluster_id;
	__u8  pad0;
	__u8  family;          /* FAMILY_IPV4 | FAMILY_IPV6 */
	__u8  ip[16];          /* IPv4 in the first 4 bytes, the rest zero */
};

#define IPCACHE_F_SKIP_TUNNEL 0x01  /* reach it natively even in tunnel mode */

struct ipcache_value {
	__u32 sec_identity;
	__u32 tunnel_endpoint;  /* IPv4 underlay address of the node (network order), 0 = none */
	__u8  flags;            /* IPCACHE_F_* */
	__u8  pad0[3];
};

/* ---------------------------------------------------------------- endpoints
 * cilium_lxc: hash from a local endpoint's IP to the endpoint: how to reach
 * it, and for the one endpoint program every endpoint shares, who it is (its
 * id, identity and host-side veth); the program finds "its" endpoint by the
 * packet's source IP on the way out of the pod and by the destination IP on
 * the way in.
 */
struct endpoint_key {
	__u8  ip[16];
	__u8  family;
	__u8  pad0[3];
};

struct endpoint_info {
	__u32 ifindex;          /* host-side veth */
	__u16 lxc_id;           /* endpoint id */
	__u16 flags;
	__u8  mac[6];           /* the pod's MAC */
	__u8  node_mac[6];      /* the host-side veth's MAC */
	__u32 sec_identity;
};

/* ---------------------------------------------------------------- policy
 * cilium_policy_maps: hash of maps from an endpoint id to that endpoint's
 * policy map, a hash keyed {identity, direction, protocol, dport, l4_prefix_len}, where
 * l4_prefix_len says how much of the L4 part the key matches:
 *    8      any protocol and port            (protocol 0, dport 0)
 *   16      this protocol, any port          (dport 0)
 *   16 + n  this protocol, the ports sharing dport's first n bits (1..16);
 *           32 = exactly this port. A port range is written as several
 *           port/mask prefixes.
 * For ICMP and ICMPv6 the "port" is the ICMP type (bpf_htons(type)).
 *
 * cilium_pol_lens: array indexed by endpoint id, the set of l4_prefix_len
 * values present in that endpoint's policy map (bit n for length n), so a
 * lookup probes only lengths that exist: the cost depends on the shapes of the
 * rules, not on the number of entries. All zero: no policy (deny all).
 *
 * Lookup order (bpf/lib/policy.h):
 *   1. the longest match for the peer's identity (probing the present
 *      lengths from 32 down to 8);
 *   2. the longest match for identity 0 (any peer);
 *   3. if either match is a deny entry, the packet is denied (deny wins);
 *   4. otherwise the more specific match (larger l4_prefix_len, the identity
 *      match on a tie) gives the verdict: allow, or redirect to its proxy port;
 *   5. no match: denied (default deny). A direction without policy gets an
 *      allow-all entry {0, dir, any} from the agent.
 * Within one identity the longest prefix wins, so a writer that denies a
 * broader key must also deny (or drop) narrower allows of that identity, as
 * upstream's map state does; src/policy-entries.ts provides that resolution.
 */
#define ENDPOINTS_MAX   65536   /* endpoint ids are 16 bit */
#define POLICY_MAP_SIZE 16384   /* entries of an endpoint policy map (at least) */

#define POLICY_L4_ANY      8
#define POLICY_L4_PROTO    16
#define POLICY_L4_EXACT    32

#define POLICY_INGRESS 0
#define POLICY_EGRESS  1

struct policy_key {
	__u32 sec_label;        /* peer identity, 0 = any */
	__u8  egress;           /* POLICY_INGRESS | POLICY_EGRESS */
	__u8  protocol;         /* IPPROTO_*, 0 when l4_prefix_len is 8 */
	__be16 dport;           /* masked to its prefix, 0 when l4_prefix_len <= 16 */
	__u8  l4_prefix_len;
	__u8  pad0[3];
};

#define POLICY_F_DENY 0x01

struct policy_entry {
	__be16 proxy_port;      /* != 0: redirect to this L7 proxy port */
	__u8  flags;            /* POLICY_F_* */
	__u8  l4_prefix_len;    /* of the key this entry is stored under */
	__u32 pad0;
	__u64 packets;
	__u64 bytes;
};

struct policy_prefix_set {
	__u64 lengths;          /* bit n: some key has l4_prefix_len n */
};

/* Match types of policy verdicts (upstream's numbering). */
#define POLICY_MATCH_NONE     0
#define POLICY_MATCH_L3_ONLY  1
#define POLICY_MATCH_L3_L4    2
#define POLICY_MATCH_L4_ONLY  3
#define POLICY_MATCH_ALL      4
#define POLICY_MATCH_L3_PROTO 5
#define POLICY_MATCH_PROTO_ONLY 6

/* ---------------------------------------------------------------- conntrack
 * cilium_ct4_global / cilium_ct6_global: LRU hashes keyed by the tuple as the
 * originator sent it, plus the scope of the endpoint that saw it first:
 * CT_EGRESS for a connection an endpoint opened, CT_INGRESS for one it
 * accepted. A packet is "established" when its own tuple is found in its own
 * scope, "reply" when the reversed tuple is found in the other scope, and
 * "related" for ICMP errors whose embedded packet matches either.
 */
#define CT_EGRESS  0
#define CT_INGRESS 1

struct ct4_key {
	__be32 daddr;
	__be32 saddr;
	__be16 dport;
	__be16 sport;
	__u8  nexthdr;
	__u8  flags;            /* CT_EGRESS | CT_INGRESS */
	__u8  pad0[2];
};

struct ct6_key {
	__u8  daddr[16];
	__u8  saddr[16];
	__be16 dport;
	__be16 sport;
	__u8  nexthdr;
	__u8  flags;
	__u8  pad0[2];
};

/* TCP flag bits kept in ct_entry.flags_seen_* (the low byte of the TCP flags). */
#define TCP_FLAG_FIN 0x01
#define TCP_FLAG_SYN 0x02
#define TCP_FLAG_RST 0x04
#define TCP_FLAG_ACK 0x10
#define TCP_REPORT_FLAGS (TCP_FLAG_FIN | TCP_FLAG_SYN | TCP_FLAG_RST)

#define CT_F_ESTABLISHED 0x01   /* a non-SYN TCP packet was seen */
#define CT_F_TX_CLOSING  0x02   /* FIN or RST from the originator */
#define CT_F_RX_CLOSING  0x04   /* FIN or RST from the responder */
#define CT_F_PROXY       0x08   /* the connection goes through an L7 proxy */

struct ct_entry {
	__u64 expires;          /* bpf_ktime_get_coarse_ns() deadline (CLOCK_MONOTONIC_COARSE) */
	__u64 tx_packets;       /* originator -> responder */
	__u64 tx_bytes;
	__u64 rx_packets;       /* responder -> originator */
	__u64 rx_bytes;
	__u64 last_tx_report;   /* ns of the last trace event per direction */
	__u64 last_rx_report;
	__u32 src_sec_id;       /* identity of the peer when the entry was made */
	__be16 proxy_port;
	__u8  tx_flags_seen;
	__u8  rx_flags_seen;
	__u8  flags;            /* CT_F_* */
	__u8  pad0[7];
};

/* Lifetimes (ns). The clock is the coarse monotonic one: a ktime read costs
 * more than the rest of an established packet, and jiffy precision is plenty
 * for timeouts of seconds. */
#define CT_LIFETIME_TCP      (6ULL * 3600 * 1000000000ULL)
#define CT_LIFETIME_SYN      (60ULL * 1000000000ULL)
#define CT_LIFETIME_CLOSE    (10ULL * 1000000000ULL)
#define CT_LIFETIME_NONTCP   (60ULL * 1000000000ULL)

/* ---------------------------------------------------------------- metrics
 * cilium_metrics: per-CPU hash {reason, dir} -> {count, bytes}.
 * reason 0 = forwarded, otherwise a drop reason; dir 1 ingress, 2 egress.
 * {METRIC_REASON_EVENTS_LOST, METRIC_DIR_NONE} counts failed ring buffer
 * reservations.
 */
#define METRIC_DIR_NONE    0
#define METRIC_DIR_INGRESS 1
#define METRIC_DIR_EGRESS  2
#define METRIC_REASON_FORWARDED   0
#define METRIC_REASON_EVENTS_LOST 255

struct metrics_key {
	__u8  reason;
	__u8  dir;
	__u16 pad0;
};

struct metrics_value {
	__u64 count;
	__u64 bytes;
};

/* ---------------------------------------------------------------- drop reasons
 * Upstream's numbers (positive form of -DROP_*).
 */
#define DROP_INVALID_SIP       132  /* source IP not of the endpoint on this veth */
#define DROP_INVALID           134
#define DROP_POLICY            133
#define DROP_CT_UNKNOWN_PROTO  137
#define DROP_UNKNOWN_L3        139
#define DROP_UNKNOWN_L4        142
#define DROP_FRAG_NOSUPPORT    157
#define DROP_INVALID_EXTHDR    156
#define DROP_NO_TUNNEL_ENDPOINT 160
#define DROP_WRITE_ERROR       141
#define DROP_NO_TUNNEL_KEY     147
#define DROP_POLICY_DENY       181
#define DROP_INVALID_VNI       183
#define DROP_CT_CREATE_FAILED  155
#define DROP_EP_NOT_READY      203  /* no endpoint registered for the destination IP */

/* ---------------------------------------------------------------- events
 * cilium_events: a BPF ring buffer. Every event starts with notify_hdr.
 */
#define CILIUM_NOTIFY_DROP           1
#define CILIUM_NOTIFY_TRACE          4
#define CILIUM_NOTIFY_POLICY_VERDICT 5

#define NOTIFY_VERSION 1
#define NOTIFY_CAPTURE_LEN 128

/* Observation points (trace subtype). */
#define TRACE_TO_LXC      0
#define TRACE_TO_PROXY    1
#define TRACE_TO_HOST     2
#define TRACE_TO_STACK    3
#define TRACE_TO_OVERLAY  4
#define TRACE_FROM_LXC    5
#define TRACE_FROM_PROXY  6
#define TRACE_FROM_HOST   7
#define TRACE_FROM_STACK  8
#define TRACE_FROM_OVERLAY 9
#define TRACE_FROM_NETWORK 10
#define TRACE_TO_NETWORK  11

/* Trace reasons (connection state). */
#define TRACE_REASON_NEW         0
#define TRACE_REASON_ESTABLISHED 1
#define TRACE_REASON_REPLY       2
#define TRACE_REASON_RELATED     3
#define TRACE_REASON_REOPENED    4
#define TRACE_REASON_UNKNOWN     5

#define NOTIFY_F_IPV6 0x01

struct notify_hdr {
	__u8  type;             /* CILIUM_NOTIFY_* */
	__u8  subtype;          /* trace: observation point; drop: reason; verdict: 0 */
	__u16 source;           /* endpoint id (0 for node programs) */
	__u32 hash;             /* skb hash */
	__u32 len_orig;         /* packet length */
	__u16 len_cap;          /* bytes of data[] that are valid */
	__u16 version;          /* NOTIFY_VERSION */
};

struct trace_notify {
	struct notify_hdr hdr;
	__u32 src_label;
	__u32 dst_label;
	__u16 dst_id;           /* destination endpoint id, 0 if not local */
	__u8  reason;           /* TRACE_REASON_* */
	__u8  flags;            /* NOTIFY_F_* */
	__u32 ifindex;
	__u8  orig_ip[16];      /* reserved: original address before translation */
	__u8  data[NOTIFY_CAPTURE_LEN];
};

struct drop_notify {
	struct notify_hdr hdr;
	__u32 src_label;
	__u32 dst_label;
	__u32 dst_id;
	__u32 ifindex;
	__u16 line;             /* source line of the drop, for debugging */
	__u8  file;             /* DROP_FILE_* */
	__u8  dir;              /* METRIC_DIR_* */
	__u8  flags;            /* NOTIFY_F_* */
	__u8  pad0[3];
	__u8  data[NOTIFY_CAPTURE_LEN];
};

#define DROP_FILE_LXC     1
#define DROP_FILE_OVERLAY 2
#define DROP_FILE_HOST    3

#define VERDICT_F_IPV6 0x01
#define VERDICT_F_AUDIT 0x02

struct policy_verdict_notify {
	struct notify_hdr hdr;
	__u32 src_label;
	__u32 dst_label;
	__u32 remote_label;     /* the peer identity the policy was looked up for */
	__s32 verdict;          /* 0 allowed, > 0 proxy port (redirect), < 0 -DROP_* */
	__be16 dst_port;
	__u16 proxy_port;       /* host order */
	__u8  proto;
	__u8  dir;              /* METRIC_DIR_INGRESS | METRIC_DIR_EGRESS */
	__u8  match_type;       /* POLICY_MATCH_* */
	__u8  flags;            /* VERDICT_F_* */
	__u32 ifindex;
	__u32 pad0;
	__u8  data[NOTIFY_CAPTURE_LEN];
};

/* ---------------------------------------------------------------- skb->mark
 * Identity handed from one program to the next on the same node (from the
 * overlay, the host device or another endpoint to cil_to_container):
 * bits 8-11 = 0xF, identity bits 0-15 in mark bits 16-31, bits 16-23 in 0-7.
 */
#define MARK_MAGIC_MASK     0x0F00
#define MARK_MAGIC_IDENTITY 0x0F00
#define MARK_MAGIC_TO_PROXY 0x0200  /* proxy port in bits 16-31 */

/* Largest identity carried in the VXLAN VNI (24 bits). */
#define VNI_IDENTITY_MASK 0xFFFFFF

#endif /* CILIUM_TS_COMMON_H */
