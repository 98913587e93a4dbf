/* One ring-buffer record per packet seen at the attachment point; failed outputs are counted. */
#include "common.h"

struct packet_event {
	__u32 ifindex;
	__u32 len;
	__u16 protocol; /* network byte order, as in skb->protocol */
	__u16 pad;
};

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 256 * 1024);
} events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} lost_events SEC(".maps");

SEC("tc")
int tc_observe(struct __sk_buff *skb)
{
	struct packet_event ev = {
		.ifindex = skb->ifindex,
		.len = skb->len,
		.protocol = (__u16)skb->protocol,
	};

	if (bpf_ringbuf_output(&events, &ev, sizeof(ev), 0) != 0) {
		__u32 zero = 0;
		__u64 *lost = bpf_map_lookup_elem(&lost_events, &zero);
		if (lost)
			*lost += 1;
	}
	return TC_ACT_OK;
}

char LICENSE[] SEC("license") = "GPL";
