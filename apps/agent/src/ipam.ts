// Host-scope IPAM: hands out addresses of this node's pod CIDR(s) to endpoints. The network address, the
// router address (first host, the node's gateway for its pods) and the IPv4 broadcast address are never
// handed out. Allocations are persisted so that a restarted agent keeps them.
import { join } from 'node:path';
import { cidrContains, formatIp, parseIp, type Cidr, type IpFamily } from './cidr.js';
import { readJsonIfExists, writeJsonAtomic } from './state-file.js';

export interface IpamAllocation {
  ip: string;
  family: IpFamily;
  gateway: string;
  cidr: string;
  owner: string;
}

export class IpamError extends Error {
  override name = 'IpamError';
  constructor(
    message: string,
    readonly reason: 'exhausted' | 'conflict' | 'out-of-range' | 'not-found' | 'family-disabled' | 'invalid',
  ) {
    super(message);
  }
}

interface Pool {
  cidr: Cidr;
  gateway: bigint;
  first: bigint;
  last: bigint;
  allocated: Map<bigint, string>;
  /** Next address to try: allocation goes round the pool so a released address is not reused at once. */
  cursor: bigint;
}

interface IpamState {
  ipv4?: Record<string, string>;
  ipv6?: Record<string, string>;
}

function makePool(cidr: Cidr): Pool {
  const gateway = cidr.network + 1n;
  const last = cidr.family === 4 ? cidr.network + cidr.size - 2n : cidr.network + cidr.size - 1n;
  if (last <= gateway) throw new IpamError(`pod CIDR ${cidr.text} is too small to hold any endpoint address`, 'invalid');
  return { cidr, gateway, first: gateway + 1n, last, allocated: new Map(), cursor: gateway + 1n };
}

export class Ipam {
  private readonly pools = new Map<IpFamily, Pool>();
  private writes: Promise<void> = Promise.resolve();

  private constructor(
    private readonly statePath: string,
    v4: Cidr,
    v6: Cidr | undefined,
  ) {
    this.pools.set(4, makePool(v4));
    if (v6) this.pools.set(6, makePool(v6));
  }

  /** Opens the allocator and restores allocations from `<stateDir>/ipam.json`, dropping any that no longer fit. */
  static async open(opts: { podCIDR: Cidr; podCIDRv6?: Cidr; stateDir: string }): Promise<Ipam> {
    const ipam = new Ipam(join(opts.stateDir, 'ipam.json'), opts.podCIDR, opts.podCIDRv6);
    const state = (await readJsonIfExists(ipam.statePath)) as IpamState | undefined;
    for (const [family, saved] of [
      [4, state?.ipv4],
      [6, state?.ipv6],
    ] as const) {
      const pool = ipam.pools.get(family);
      if (!pool || !saved) continue;
      for (const [ip, owner] of Object.entries(saved)) {
        const v = parseIp(ip).value;
        if (cidrContains(pool.cidr, ip) && v >= pool.first && v <= pool.last) pool.allocated.set(v, owner);
      }
    }
    return ipam;
  }

  families(): IpFamily[] {
    return [...this.pools.keys()];
  }

  gateway(family: IpFamily): string | undefined {
    const pool = this.pools.get(family);
    return pool ? formatIp(pool.gateway, family) : undefined;
  }

  cidr(family: IpFamily): string | undefined {
    return this.pools.get(family)?.cidr.text;
  }

  /** Allocates the next free address of the family. */
  async allocateNext(family: IpFamily, owner: string): Promise<IpamAllocation> {
    const pool = this.pool(family);
    const span = pool.last - pool.first + 1n;
    if (BigInt(pool.allocated.size) >= span) {
      throw new IpamError(`IPAM: IPv${family} pool ${pool.cidr.text} is exhausted (${span} addresses, all allocated)`, 'exhausted');
    }
    let candidate = pool.cursor;
    while (pool.allocated.has(candidate)) candidate = candidate >= pool.last ? pool.first : candidate + 1n;
    pool.cursor = candidate >= pool.last ? pool.first : candidate + 1n;
    return this.take(pool, candidate, owner);
  }

  /** Allocates a specific address, e.g. one a restored endpoint already uses. */
  async allocateIp(ip: string, owner: string): Promise<IpamAllocation> {
    let parsed;
    try {
      parsed = parseIp(ip);
    } catch (err) {
      throw new IpamError(`IPAM: ${(err as Error).message}`, 'invalid');
    }
    const pool = this.pool(parsed.family);
    if (!cidrContains(pool.cidr, ip)) throw new IpamError(`IPAM: ${ip} is not in this node's pod CIDR ${pool.cidr.text}`, 'out-of-range');
    if (parsed.value < pool.first || parsed.value > pool.last) {
      throw new IpamError(`IPAM: ${ip} is reserved (network, router or broadcast address of ${pool.cidr.text})`, 'out-of-range');
    }
    const holder = pool.allocated.get(parsed.value);
    if (holder !== undefined) {
      throw new IpamError(`IPAM: ${ip} is already allocated${holder ? ` to ${holder}` : ''}`, 'conflict');
    }
    return this.take(pool, parsed.value, owner);
  }

  async release(ip: string): Promise<void> {
    let parsed;
    try {
      parsed = parseIp(ip);
    } catch (err) {
      throw new IpamError(`IPAM: ${(err as Error).message}`, 'invalid');
    }
    const pool = this.pools.get(parsed.family);
    if (!pool || !pool.allocated.delete(parsed.value)) throw new IpamError(`IPAM: ${ip} is not allocated`, 'not-found');
    await this.persist();
  }

  /** Releases every address held by an owner; returns them. */
  async releaseOwner(owner: string): Promise<string[]> {
    const released: string[] = [];
    for (const [family, pool] of this.pools) {
      for (const [v, o] of [...pool.allocated]) {
        if (o === owner) {
          pool.allocated.delete(v);
          released.push(formatIp(v, family));
        }
      }
    }
    if (released.length) await this.persist();
    return released;
  }

  /** Allocated addresses and their owners, by family, as upstream's IPAMStatus.allocations. */
  allocations(): Record<string, string> {
    const out: Record<string, string> = {};
    for (const [family, pool] of this.pools) {
      for (const v of [...pool.allocated.keys()].sort((a, b) => (a < b ? -1 : 1))) out[formatIp(v, family)] = pool.allocated.get(v)!;
    }
    return out;
  }

  /** How many addresses the family's pool can hand out. */
  capacity(family: IpFamily): bigint {
    const pool = this.pools.get(family);
    return pool ? pool.last - pool.first + 1n : 0n;
  }

  count(family: IpFamily): number {
    return this.pools.get(family)?.allocated.size ?? 0;
  }

  private pool(family: IpFamily): Pool {
    const pool = this.pools.get(family);
    if (!pool) throw new IpamError(`IPAM: IPv${family} is not enabled on this node (no pod CIDR configured)`, 'family-disabled');
    return pool;
  }

  private async take(pool: Pool, value: bigint, owner: string): Promise<IpamAllocation> {
    pool.allocated.set(value, owner);
    await this.persist();
    const family = pool.cidr.family;
    return { ip: formatIp(value, family), family, gateway: formatIp(pool.gateway, family), cidr: pool.cidr.text, owner };
  }

  private persist(): Promise<void> {
    const snapshot: IpamState = {};
    for (const [family, pool] of this.pools) {
      const rec: Record<string, string> = {};
      for (const [v, owner] of pool.allocated) rec[formatIp(v, family)] = owner;
      if (family === 4) snapshot.ipv4 = rec;
      else snapshot.ipv6 = rec;
    }
    this.writes = this.writes.catch(() => {}).then(() => writeJsonAtomic(this.statePath, snapshot));
    return this.writes;
  }
}
