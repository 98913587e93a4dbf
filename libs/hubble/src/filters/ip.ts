import { BlockList, isIP } from 'node:net';
import { FilterError } from './filter-error.js';

/**
 * Matches an address against exact IPs (compared as text, as upstream does) and CIDRs. An event
 * without an address never matches.
 */
export function compileIpMatcher(values: readonly string[], path: string): (ip: string) => boolean {
  const exact = new Set<string>();
  let cidrs: BlockList | undefined;
  values.forEach((value, i) => {
    const slash = value.indexOf('/');
    if (slash === -1) {
      if (isIP(value) === 0) throw new FilterError(`${path}[${i}]`, `invalid IP address ${JSON.stringify(value)}`);
      exact.add(value);
      return;
    }
    const address = value.slice(0, slash);
    const prefixText = value.slice(slash + 1);
    const family = isIP(address);
    const prefix = /^\d{1,3}$/.test(prefixText) ? Number(prefixText) : -1;
    if (family === 0 || prefix < 0 || prefix > (family === 4 ? 32 : 128)) {
      throw new FilterError(`${path}[${i}]`, `invalid CIDR ${JSON.stringify(value)}`);
    }
    cidrs ??= new BlockList();
    cidrs.addSubnet(address, prefix, family === 4 ? 'ipv4' : 'ipv6');
  });
  const blockList = cidrs;
  return (ip) => {
    if (ip === '') return false;
    if (exact.has(ip)) return true;
    if (blockList === undefined) return false;
    const family = isIP(ip);
    return family !== 0 && blockList.check(ip, family === 4 ? 'ipv4' : 'ipv6');
  };
}
