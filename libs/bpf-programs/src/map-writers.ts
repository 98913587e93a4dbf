// Typed writes of the datapath's map entries through the codecs.
import type { BpfMap } from '@cilium-ts/datapath-native';
import { type EndpointInfo, encodeEndpointInfo, encodeEndpointKey } from './codecs/endpoint.js';
import { type IpcacheValue, encodeIpcacheKey, encodeIpcacheValue } from './codecs/ipcache.js';
import { encodePolicyEntry, encodePolicyKey } from './codecs/policy.js';
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

/** Replaces the content of an endpoint's policy map with the entries for `rules` (LPM tries have no batch ops). */
export function writePolicy(map: BpfMap, rules: readonly PolicyRuleEntry[]): number {
  const entries = policyMapEntries(rules);
  const keys = entries.map((e) => encodePolicyKey(e.key));
  const wanted = new Set(keys.map((k) => k.toString('hex')));
  const stale = [...map.keys()].filter((k) => !wanted.has(k.toString('hex')));
  entries.forEach((e, i) => map.update(keys[i] as Buffer, encodePolicyEntry(e.key, e.entry)));
  for (const k of stale) map.delete(k);
  return entries.length;
}
