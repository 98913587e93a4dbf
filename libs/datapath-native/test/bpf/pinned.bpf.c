/* A map pinned by name under the loader's pin root: a second load reuses it. */
#include "common.h"

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} ctsdn_pinned_runs SEC(".maps");

SEC("tc")
int tc_count(struct __sk_buff *skb)
{
	__u32 zero = 0;
	__u64 *runs = bpf_map_lookup_elem(&ctsdn_pinned_runs, &zero);

	if (runs)
		__sync_fetch_and_add(runs, 1);
	return TC_ACT_OK;
}

char LICENSE[] SEC("license") = "GPL";
