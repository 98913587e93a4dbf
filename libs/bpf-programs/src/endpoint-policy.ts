// An endpoint's policy in the node's maps: its own policy hash, reached through cilium_policy_maps by
// endpoint id, and its set of prefix lengths in cilium_pol_lens[endpoint id].
import { BpfMap } from '@cilium-ts/datapath-native';
import { POLICY_ENTRY, POLICY_KEY, POLICY_PREFIX_SET, encodePolicyEntry, encodePolicyKey, encodePolicyPrefixSet } from './codecs/policy.js';
import { type PolicyRuleEntry, policyMapEntries } from './policy-entries.js';

/** bpf/lib/common.h: POLICY_MAP_SIZE, the least number of entries of an endpoint's policy map. */
export const POLICY_MAP_SIZE = 16384;
/** bpf/lib/common.h: ENDPOINTS_MAX, endpoint ids are 16 bit. */
export const ENDPOINTS_MAX = 65536;
const BPF_F_NO_PREALLOC = 1;

/** The node-wide maps that hold every endpoint's policy. */
export interface NodePolicyMaps {
  /** cilium_policy_maps: hash of maps, endpoint id -> the endpoint's policy map. */
  policyMaps: BpfMap;
  /** cilium_pol_lens: array indexed by endpoint id, the prefix lengths present in its policy map. */
  prefixLengths: BpfMap;
}

export function endpointIdKey(endpointId: number): Buffer {
  if (!Number.isInteger(endpointId) || endpointId < 0 || endpointId >= ENDPOINTS_MAX) {
    throw new Error(`endpoint id ${endpointId}: must be an integer from 0 to ${ENDPOINTS_MAX - 1}`);
  }
  const key = Buffer.alloc(4);
  key.writeUInt32LE(endpointId);
  return key;
}

/** A new, empty policy map in the shape of cilium_policy_maps' inner map (bpf/lib/policy.h). */
export function createPolicyMap(endpointId: number, entries = 0): BpfMap {
  return BpfMap.create({
    type: 'hash',
    name: `policy_${endpointId}`,
    keySize: POLICY_KEY.size,
    valueSize: POLICY_ENTRY.size,
    maxEntries: Math.max(POLICY_MAP_SIZE, entries),
    flags: BPF_F_NO_PREALLOC,
  });
}

function prefixSetUnion(a: Buffer, b: Buffer): Buffer {
  const offset = POLICY_PREFIX_SET.fields.lengths.offset;
  const out = Buffer.alloc(POLICY_PREFIX_SET.size);
  out.writeBigUInt64LE(a.readBigUInt64LE(offset) | b.readBigUInt64LE(offset), offset);
  return out;
}

function failed(endpointId: number, err: unknown): Error {
  return new Error(`writePolicy(endpoint ${endpointId}): ${(err as Error).message}`, { cause: err });
}

/**
 * Replaces an endpoint's whole policy at once: the entries for `rules` go into a new policy map, which then
 * takes the old one's place in cilium_policy_maps, so a packet sees either the old or the new policy, never a
 * mix. The set of prefix lengths is widened (old and new) before the swap and narrowed after it; the programs
 * read the policy map before the set, so a lookup that sees the new map sees all of its lengths.
 * The swap costs an RCU grace period (milliseconds): the kernel waits for running programs after every
 * update of a map-in-map. Returns the new map (the caller closes it; the kernel keeps it while
 * cilium_policy_maps holds it).
 */
export function replaceEndpointPolicy(maps: NodePolicyMaps, endpointId: number, rules: readonly PolicyRuleEntry[]): { map: BpfMap; entries: number } {
  const key = endpointIdKey(endpointId);
  const entries = policyMapEntries(rules);
  const map = createPolicyMap(endpointId, entries.length);
  try {
    if (entries.length > 0) {
      map.updateBatch(entries.map((e) => encodePolicyKey(e.key)), entries.map((e) => encodePolicyEntry(e.key, e.entry)));
    }
    const after = encodePolicyPrefixSet(entries.map((e) => e.key));
    const before = maps.prefixLengths.lookup(key) ?? Buffer.alloc(POLICY_PREFIX_SET.size);
    maps.prefixLengths.update(key, prefixSetUnion(before, after));
    maps.policyMaps.setInnerMap(key, map);
    maps.prefixLengths.update(key, after);
  } catch (err) {
    map.close();
    throw failed(endpointId, err);
  }
  return { map, entries: entries.length };
}

/**
 * Rewrites the entries of the endpoint's current policy map (`policy`, the map in cilium_policy_maps[id]) in
 * place: new and changed entries first, then the stale ones go; the prefix lengths are widened before and
 * narrowed after, so a lookup never skips a live entry. Cheaper than a swap (no RCU wait), but a packet in
 * the middle of it may see some entries of the old policy next to some of the new. Returns the entry count,
 * or undefined when the map is too small for the new policy (then replace it).
 */
export function updateEndpointPolicy(maps: NodePolicyMaps, endpointId: number, policy: BpfMap, rules: readonly PolicyRuleEntry[]): number | undefined {
  const key = endpointIdKey(endpointId);
  const entries = policyMapEntries(rules);
  if (entries.length > policy.maxEntries) return undefined;
  try {
    const keys = entries.map((e) => encodePolicyKey(e.key));
    const wanted = new Set(keys.map((k) => k.toString('hex')));
    const stale = [...policy.keys()].filter((k) => !wanted.has(k.toString('hex')));
    const after = encodePolicyPrefixSet(entries.map((e) => e.key));
    const before = maps.prefixLengths.lookup(key) ?? Buffer.alloc(POLICY_PREFIX_SET.size);
    maps.prefixLengths.update(key, prefixSetUnion(before, after));
    if (stale.length > 0) policy.deleteBatch(stale);
    if (keys.length > 0) policy.updateBatch(keys, entries.map((e) => encodePolicyEntry(e.key, e.entry)));
    maps.prefixLengths.update(key, after);
  } catch (err) {
    throw failed(endpointId, err);
  }
  return entries.length;
}

/** Takes the endpoint's policy out of the node's maps (its packets are then denied). */
export function deleteEndpointPolicy(maps: NodePolicyMaps, endpointId: number): boolean {
  const key = endpointIdKey(endpointId);
  maps.prefixLengths.update(key, Buffer.alloc(POLICY_PREFIX_SET.size));
  return maps.policyMaps.delete(key);
}

/** Endpoint ids that have a policy map in cilium_policy_maps (also those written before an agent restart). */
export function endpointsWithPolicy(maps: NodePolicyMaps): number[] {
  return [...maps.policyMaps.keys()].map((k) => k.readUInt32LE(0)).sort((a, b) => a - b);
}
