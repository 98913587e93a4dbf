/* Rejected by the verifier on purpose: reads the packet without checking data_end. */
#include "common.h"

SEC("tc")
int tc_unchecked_read(struct __sk_buff *skb)
{
	__u8 *data = (__u8 *)(long)skb->data;

	return data[64];
}

char LICENSE[] SEC("license") = "GPL";
