/* A hash of maps read from BPF: the verdict is the value in slot 0 of the inner map at key 1. */
#include "common.h"

struct inner_map {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH_OF_MAPS);
	__uint(max_entries, 4);
	__type(key, __u32);
	__array(values, struct inner_map);
} outer SEC(".maps");

#define NO_INNER_MAP 100
#define NO_VALUE 101

SEC("tc")
int tc_inner_value(struct __sk_buff *skb)
{
	__u32 key = 1, zero = 0;
	void *inner = bpf_map_lookup_elem(&outer, &key);
	__u32 *value;

	if (!inner)
		return NO_INNER_MAP;
	value = bpf_map_lookup_elem(inner, &zero);
	return value ? *value : NO_VALUE;
}

char LICENSE[] SEC("license") = "GPL";
