// Network namespaces, veths and probe servers for the integration tests. Every
// name carries a random suffix; close() removes all of it, also after failures.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';

// Same relative path from src/testing (tests) and dist/testing (benchmarks).
const PROBE = fileURLToPath(new URL('../../test/fixtures/probe.mjs', import.meta.url));

export function sh(args: string[]): string {
  try {
    return execFileSync(args[0] as string, args.slice(1), { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (err) {
    const e = err as { stderr?: string };
    throw new Error(`${args.join(' ')}: ${e.stderr ?? String(err)}`, { cause: err });
  }
}

export class NetnsLab {
  readonly suffix = randomBytes(3).toString('hex');
  readonly namespaces: string[] = [];
  readonly servers: ChildProcess[] = [];

  netns(role: string): string {
    const name = `cts-${role}-${this.suffix}`;
    sh(['ip', 'netns', 'add', name]);
    this.namespaces.push(name);
    this.exec(name, ['ip', 'link', 'set', 'lo', 'up']);
    return name;
  }

  exec(ns: string, args: string[]): string {
    return sh(['ip', 'netns', 'exec', ns, ...args]);
  }

  path(ns: string): string {
    return `/var/run/netns/${ns}`;
  }

  mac(ns: string, dev: string): string {
    const info = JSON.parse(this.exec(ns, ['ip', '-j', 'link', 'show', dev])) as Array<{ address: string; ifindex: number }>;
    return (info[0] as { address: string }).address;
  }

  ifindex(ns: string, dev: string): number {
    const info = JSON.parse(this.exec(ns, ['ip', '-j', 'link', 'show', dev])) as Array<{ ifindex: number }>;
    return (info[0] as { ifindex: number }).ifindex;
  }

  /** A pod: its own namespace with eth0 and a /32, its host side `hostDev` in the node namespace. */
  pod(node: string, role: string, ip: string): { ns: string; hostDev: string; mac: string; nodeMac: string; ifindex: number } {
    const ns = this.netns(role);
    const hostDev = `lxc${role}${this.suffix}`.slice(0, 15);
    sh(['ip', 'link', 'add', hostDev, 'netns', node, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns]);
    this.exec(node, ['ip', 'link', 'set', hostDev, 'up']);
    this.exec(ns, ['ip', 'link', 'set', 'eth0', 'up']);
    this.exec(ns, ['ip', 'addr', 'add', `${ip}/32`, 'dev', 'eth0']);
    const nodeMac = this.mac(node, hostDev);
    // The gateway is a link-local address nobody owns: the endpoint program answers ARP for it.
    this.exec(ns, ['ip', 'route', 'add', '169.254.1.1', 'dev', 'eth0', 'scope', 'link']);
    this.exec(ns, ['ip', 'route', 'add', 'default', 'via', '169.254.1.1', 'dev', 'eth0']);
    this.exec(node, ['ip', 'route', 'add', `${ip}/32`, 'dev', hostDev]);
    return { ns, hostDev, mac: this.mac(ns, 'eth0'), nodeMac, ifindex: this.ifindex(node, hostDev) };
  }

  router(ns: string): void {
    this.exec(ns, ['sysctl', '-qw', 'net.ipv4.ip_forward=1']);
    this.exec(ns, ['sysctl', '-qw', 'net.ipv4.conf.all.rp_filter=0']);
    this.exec(ns, ['sysctl', '-qw', 'net.ipv4.conf.default.rp_filter=0']);
  }

  async serve(ns: string, tcpPorts: number[], udpPorts: number[]): Promise<void> {
    const child = spawn('ip', ['netns', 'exec', ns, process.execPath, PROBE, 'server', tcpPorts.join(','), udpPorts.join(',')], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    this.servers.push(child);
    await new Promise<void>((resolve, reject) => {
      child.once('exit', (code) => reject(new Error(`probe server in ${ns} exited with ${code}`)));
      child.stdout?.on('data', (d: Buffer) => { if (d.toString().includes('ready')) resolve(); });
    });
  }

  /** 'connected' or 'failed'. */
  probe(ns: string, proto: 'tcp' | 'udp', host: string, port: number, timeoutMs = 1500): string {
    try {
      return this.exec(ns, [process.execPath, PROBE, proto, host, String(port), String(timeoutMs)]).trim();
    } catch {
      return 'failed';
    }
  }

  ping(ns: string, host: string): boolean {
    try {
      this.exec(ns, ['ping', '-c', '1', '-W', '1', host]);
      return true;
    } catch {
      return false;
    }
  }

  close(): void {
    for (const s of this.servers) s.kill();
    for (const ns of this.namespaces.reverse()) {
      try {
        sh(['ip', 'netns', 'del', ns]);
      } catch {
        // already gone
      }
    }
  }
}
