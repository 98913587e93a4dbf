/* Load-time constants: the verdict and a rewritten byte come from `const volatile` globals;
 * every run is counted in a map (shared with other objects in the reuseMaps test). */
#include "common.h"

const volatile __u32 verdict = TC_ACT_OK;
const volatile __u8 dst_mac_first_byte = 0xaa;

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} ctsdn_runs SEC(".maps");

SEC("tc")
int tc_verdict(struct __sk_buff *skb)
{
	void *data = (void *)(long)skb->data;
	void *data_end = (void *)(long)skb->data_end;
	struct ethhdr *eth = data;
	__u32 zero = 0;
	__u64 *runs = bpf_map_lookup_elem(&ctsdn_runs, &zero);

	if (runs)
		__sync_fetch_and_add(runs, 1);
	if ((void *)(eth + 1) > data_end)
		return TC_ACT_SHOT;
	eth->h_dest[0] = dst_mac_first_byte;
	return verdict;
}

char LICENSE[] SEC("license") = "GPL";
