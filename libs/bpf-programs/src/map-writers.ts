// Typed writes of the datapath's map entries through the codecs.
import type { BpfMap, BpfProgram } from '@cilium-ts/datapath-native';
import { type EndpointInfo, encodeEndpointInfo, encodeEndpointKey } from './codecs/endpoint.js';
import { type IpcacheValue, encodeIpcacheKey, encodeIpcacheValue } from './codecs/ipcache.js';

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
