import type { SupportedVersion } from './versions.js';

export interface CniInterface {
  name: string;
  mac?: string;
  mtu?: number;
  /** The netns path for interfaces inside the container; absent for host-side ones. */
  sandbox?: string;
}
export interface CniIpConfig {
  address: string;
  gateway?: string;
  /** Index into `interfaces`. */
  interface?: number;
}
export interface CniRoute {
  dst: string;
  gw?: string;
  mtu?: number;
}
export interface CniResult {
  cniVersion: string;
  interfaces?: CniInterface[];
  ips?: CniIpConfig[];
  routes?: CniRoute[];
  dns?: { nameservers?: string[]; domain?: string; search?: string[]; options?: string[] };
}

/**
 * The result in the layout of the version the runtime asked for: 0.4.0 tags each IP with its family and
 * has no per-interface or per-route MTU; 1.x drops the family tag.
 */
export function encodeResult(result: Omit<CniResult, 'cniVersion'>, version: SupportedVersion): CniResult {
  const legacy = version === '0.4.0';
  return {
    cniVersion: version,
    ...(result.interfaces ? { interfaces: result.interfaces.map(({ mtu, ...i }) => (legacy || mtu === undefined ? i : { ...i, mtu })) } : {}),
    ...(result.ips
      ? { ips: result.ips.map((ip) => (legacy ? { version: ip.address.includes(':') ? '6' : '4', ...ip } : ip)) }
      : {}),
    ...(result.routes ? { routes: result.routes.map(({ mtu, ...r }) => (legacy || mtu === undefined ? r : { ...r, mtu })) } : {}),
    ...(result.dns ? { dns: result.dns } : {}),
  };
}
