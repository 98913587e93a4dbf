/* SPDX-License-Identifier: Apache-2.0 */
/* Metrics and ring buffer events (trace, drop, policy verdict). */
#ifndef CILIUM_TS_EVENTS_H
#define CILIUM_TS_EVENTS_H

#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>
#include "common.h"
#include "maps.h"

/* Keeps the event layouts in every object's BTF (they are only reached
 * through ring buffer pointers otherwise), so the codec test can check them. */
struct event_layouts {
	struct trace_notify trace;
	struct drop_notify drop;
	struct policy_verdict_notify verdict;
};
struct event_layouts *cilium_event_layouts __attribute__((used));

/* When to wake the ring buffer reader. 0 (default): adaptive, the kernel
 * wakes it only when it had caught up, so bursts are read in batches but a
 * reader that keeps up is woken per event (an irq_work and a context switch:
 * microseconds). N > 0: wake only once N bytes are waiting; for readers that
 * also consume on their poll timeout, otherwise the last events of a burst
 * wait for the next burst. */
const volatile __u32 EVENTS_WAKEUP_BYTES = 0;

static __always_inline __u64 submit_flags(void)
{
	if (!EVENTS_WAKEUP_BYTES)
		return 0;
	return bpf_ringbuf_query(&cilium_events, BPF_RB_AVAIL_DATA) >= EVENTS_WAKEUP_BYTES ?
	       BPF_RB_FORCE_WAKEUP : BPF_RB_NO_WAKEUP;
}

static __always_inline void metrics_add(__u8 reason, __u8 dir, __u32 bytes)
{
	struct metrics_key key = { .reason = reason, .dir = dir };
	struct metrics_value *v = bpf_map_lookup_elem(&cilium_metrics, &key);

	if (v) {
		v->count += 1;
		v->bytes += bytes;
	} else {
		struct metrics_value init = { .count = 1, .bytes = bytes };
		bpf_map_update_elem(&cilium_metrics, &key, &init, BPF_NOEXIST);
	}
}

static __always_inline void event_lost(void)
{
	metrics_add(METRIC_REASON_EVENTS_LOST, METRIC_DIR_NONE, 0);
}

static __always_inline __u32 capture_len(struct __sk_buff *skb)
{
	__u32 cap = skb->len;

	if (cap > NOTIFY_CAPTURE_LEN)
		cap = NOTIFY_CAPTURE_LEN;
	return cap;
}

static __always_inline void fill_hdr(struct notify_hdr *h, struct __sk_buff *skb,
				     __u8 type, __u8 subtype, __u16 source, __u32 cap)
{
	h->type = type;
	h->subtype = subtype;
	h->source = source;
	/* The hash the stack already has (0 if none): recomputing it runs the
	 * flow dissector, which costs more than the rest of the event. */
	h->hash = skb->hash;
	h->len_orig = skb->len;
	h->len_cap = cap;
	h->version = NOTIFY_VERSION;
}

/* Copy the first bytes of the packet; the bound is restated right before the
 * call so the verifier sees 1..NOTIFY_CAPTURE_LEN. */
static __always_inline __u32 capture(struct __sk_buff *skb, __u8 *data)
{
	__u32 cap = capture_len(skb);

	if (cap < 1 || cap > NOTIFY_CAPTURE_LEN)
		return 0;
	if (bpf_skb_load_bytes(skb, 0, data, cap) < 0)
		return 0;
	return cap;
}

static __always_inline void send_trace(struct __sk_buff *skb, __u8 obs, __u8 reason,
				       __u16 source, __u32 src, __u32 dst, __u16 dst_id,
				       __u8 flags)
{
	struct trace_notify *ev = bpf_ringbuf_reserve(&cilium_events, sizeof(*ev), 0);

	if (!ev) {
		event_lost();
		return;
	}
	__u32 cap = capture(skb, ev->data);
	fill_hdr(&ev->hdr, skb, CILIUM_NOTIFY_TRACE, obs, source, cap);
	ev->src_label = src;
	ev->dst_label = dst;
	ev->dst_id = dst_id;
	ev->reason = reason;
	ev->flags = flags;
	ev->ifindex = skb->ifindex;
	__builtin_memset(ev->orig_ip, 0, sizeof(ev->orig_ip));
	bpf_ringbuf_submit(ev, submit_flags());
}

static __always_inline int send_drop(struct __sk_buff *skb, __u8 reason, __u8 dir,
				     __u16 source, __u32 src, __u32 dst, __u32 dst_id,
				     __u8 file, __u16 line, __u8 flags)
{
	metrics_add(reason, dir, skb->len);

	struct drop_notify *ev = bpf_ringbuf_reserve(&cilium_events, sizeof(*ev), 0);
	if (!ev) {
		event_lost();
		return TC_ACT_SHOT;
	}
	__u32 cap = capture(skb, ev->data);
	fill_hdr(&ev->hdr, skb, CILIUM_NOTIFY_DROP, reason, source, cap);
	ev->src_label = src;
	ev->dst_label = dst;
	ev->dst_id = dst_id;
	ev->ifindex = skb->ifindex;
	ev->line = line;
	ev->file = file;
	ev->dir = dir;
	ev->flags = flags;
	ev->pad0[0] = 0;
	ev->pad0[1] = 0;
	ev->pad0[2] = 0;
	bpf_ringbuf_submit(ev, submit_flags());
	return TC_ACT_SHOT;
}

static __always_inline void send_policy_verdict(struct __sk_buff *skb, __u16 source,
						__u32 src, __u32 dst, __u32 remote,
						__s32 verdict, __be16 dport, __u16 proxy_port,
						__u8 proto, __u8 dir, __u8 match_type, __u8 flags)
{
	struct policy_verdict_notify *ev = bpf_ringbuf_reserve(&cilium_events, sizeof(*ev), 0);

	if (!ev) {
		event_lost();
		return;
	}
	__u32 cap = capture(skb, ev->data);
	fill_hdr(&ev->hdr, skb, CILIUM_NOTIFY_POLICY_VERDICT, 0, source, cap);
	ev->src_label = src;
	ev->dst_label = dst;
	ev->remote_label = remote;
	ev->verdict = verdict;
	ev->dst_port = dport;
	ev->proxy_port = proxy_port;
	ev->proto = proto;
	ev->dir = dir;
	ev->match_type = match_type;
	ev->flags = flags;
	ev->ifindex = skb->ifindex;
	ev->pad0 = 0;
	bpf_ringbuf_submit(ev, submit_flags());
}

#endif
