// SPDX-License-Identifier: GPL-2.0
// The foundation demo (cilium-lab demo): counts packets per IP protocol and reports the first packets of each
// protocol to user space, so `npm start` can show what the kernel saw on a real veth.
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/in.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

struct demo_count { __u64 packets; __u64 bytes; };

struct demo_event {
	__u32 saddr;
	__u32 daddr;
	__u8 protocol;
	__u8 pad[3];
	__u32 len;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 256);
	__type(key, __u32);
	__type(value, struct demo_count);
} demo_counts SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 64 * 1024);
} demo_events SEC(".maps");

// How many packets per protocol are reported as events; set at load time.
const volatile __u32 events_per_protocol = 3;

SEC("tc")
int demo_count_packets(struct __sk_buff *skb)
{
	void *data = (void *)(long)skb->data;
	void *data_end = (void *)(long)skb->data_end;
	struct ethhdr *eth = data;
	struct iphdr *ip = data + sizeof(*eth);

	if ((void *)(ip + 1) > data_end || eth->h_proto != bpf_htons(ETH_P_IP))
		return TC_ACT_OK;

	__u32 key = ip->protocol;
	struct demo_count *count = bpf_map_lookup_elem(&demo_counts, &key);
	if (!count)
		return TC_ACT_OK;
	count->packets++;
	count->bytes += skb->len;

	if (count->packets <= events_per_protocol) {
		struct demo_event *ev = bpf_ringbuf_reserve(&demo_events, sizeof(*ev), 0);
		if (ev) {
			ev->saddr = ip->saddr;
			ev->daddr = ip->daddr;
			ev->protocol = ip->protocol;
			ev->pad[0] = ev->pad[1] = ev->pad[2] = 0;
			ev->len = skb->len;
			bpf_ringbuf_submit(ev, 0);
		}
	}
	return TC_ACT_OK;
}

char _license[] SEC("license") = "GPL";
