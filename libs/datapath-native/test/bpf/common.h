/* Shared includes for the test programs (kernel UAPI headers plus libbpf's BPF-side helpers). */
#pragma once
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
