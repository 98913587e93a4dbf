// Typed writes of the datapath's map entries through the codecs.
import type { BpfMap, BpfProgram } from '@cilium-ts/datapath-native';
import { type EndpointInfo, encodeEndpointInfo, encodeEndpointKey } from './codecs/endpoint.js';
import { type IpcacheValue, encodeIpcacheKey, encodeIpcacheValue } from './codecs/ipcache.js';
import { POLICY_PREFIX_SET, decodePolicyKey, encodePolicyEntry, encodePolicyKey, encodePolicyPrefixSet } from './codecs/policy.js';
import { type PolicyRuleEntry, policyMapEntries } from './policy-entries.js';

export function upsertIpcache(map: BpfMap, cidr: string, value: IpcacheValue): void {
  map.update(encodeIpcacheKey({ cidr }), encodeIpcacheValue(value));
}

export function deleteIpcache(map: BpfMap, cidr: string): boolean {
  return map.delete(encodeIpcacheKey({ cidr }));
}

export function upsertEndpoint(map: BpfMap, ip: string, info: EndpointInfo): void {
  map.update(encodeEndpointKey(ip), encodeEndpointInfo(info));
}

export function deleteEndpoint(map: BpfMap, ip: string): boolean {
  return map.delete(encodeEndpointKey(ip));
}

/** The two per-endpoint policy maps of a loaded bpf_lxc object. */
export interface EndpointPolicyMaps {
  map(name: 'cilium_policy' | 'cilium_pol_lens'): BpfMap;
}

const ZERO = Buffer.alloc(4);

/**
 * Replaces the content of an endpoint's policy map with the entries for `rules`. The set of prefix lengths is
 * widened before new entries appear and narrowed after stale ones are gone, so lookups never skip a live entry.
 */
export function writePolicy(endpoint: EndpointPolicyMaps, rules: readonly PolicyRuleEntry[]): number {
  const policy = endpoint.map('cilium_policy');
  const lens = endpoint.map('cilium_pol_lens');
  const entries = policyMapEntries(rules);
  const keys = entries.map((e) => encodePolicyKey(e.key));
  const wanted = new Set(keys.map((k) => k.toString('hex')));
  const existing = [...policy.keys()];
  const stale = existing.filter((k) => !wanted.has(k.toString('hex')));
  const after = encodePolicyPrefixSet(entries.map((e) => e.key));
  const during = encodePolicyPrefixSet([...entries.map((e) => e.key), ...existing.map(decodePolicyKey)]);
  lens.update(ZERO, during.subarray(0, POLICY_PREFIX_SET.size));
  if (keys.length > 0) policy.updateBatch(keys, entries.map((e) => encodePolicyEntry(e.key, e.entry)));
  if (stale.length > 0) policy.deleteBatch(stale);
  lens.update(ZERO, after);
  return entries.length;
}

function u32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(n >>> 0, 0);
  return b;
}

/**
 * Registers an endpoint's cil_lxc_policy in cilium_call_policy, so other endpoints and the overlay on this node
 * deliver to it by tail call (its ingress policy, then straight into the pod).
 */
export function registerEndpointPolicy(callPolicy: BpfMap, endpointId: number, program: BpfProgram): void {
  callPolicy.update(u32(endpointId), u32(program.fd));
}

export function unregisterEndpointPolicy(callPolicy: BpfMap, endpointId: number): boolean {
  return callPolicy.delete(u32(endpointId));
}
