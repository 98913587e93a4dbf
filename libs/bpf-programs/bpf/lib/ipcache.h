/* SPDX-License-Identifier: Apache-2.0 */
#ifndef CILIUM_TS_IPCACHE_H
#define CILIUM_TS_IPCACHE_H

#include "common.h"
#include "maps.h"

static __always_inline struct ipcache_value *ipcache_lookup(const __u32 *addr, __u8 family)
{
	struct ipcache_key key = {
		.prefixlen = IPCACHE_STATIC_PREFIX_BITS + (family == FAMILY_IPV4 ? 32 : 128),
		.family = family,
	};

	__builtin_memcpy(key.ip, addr, 16);
	return bpf_map_lookup_elem(&cilium_ipcache, &key);
}

static __always_inline struct endpoint_info *endpoint_lookup(const __u32 *addr, __u8 family)
{
	struct endpoint_key key = { .family = family };

	__builtin_memcpy(key.ip, addr, 16);
	return bpf_map_lookup_elem(&cilium_lxc, &key);
}

static __always_inline __u32 identity_of(const __u32 *addr, __u8 family)
{
	struct ipcache_value *v = ipcache_lookup(addr, family);

	return v ? v->sec_identity : IDENTITY_WORLD;
}

static __always_inline __u32 mark_from_identity(__u32 id)
{
	return ((id & 0xFFFF) << 16) | MARK_MAGIC_IDENTITY | ((id >> 16) & 0xFF);
}

/* Returns 0 when the mark carries no identity. */
static __always_inline __u32 identity_from_mark(__u32 mark)
{
	if ((mark & MARK_MAGIC_MASK) != MARK_MAGIC_IDENTITY)
		return 0;
	return (mark >> 16) | ((mark & 0xFF) << 16);
}

#endif
