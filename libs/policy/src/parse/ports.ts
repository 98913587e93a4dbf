// toPorts (ports, endPort, protocol, L7 rules) and icmps of CiliumNetworkPolicy rules.
import type { Direction, L4Protocol, PortProtocol, PortRule } from '../model.js';
import type { Issues } from './issues.js';
import { asList, asObject, checkFields, join, quote, typeName } from './issues.js';
import { parseL7Rules } from './l7.js';

const portNameRe = /^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/;

/** IANA service names as Kubernetes accepts them for container ports: at most 15 characters, a letter, no `--`. */
export function isPortName(name: string): boolean {
  return name.length <= 15 && portNameRe.test(name) && /[a-z]/.test(name) && !name.includes('--');
}

/** Parses a port as written (number, numeric string or name); reports and returns undefined if invalid. */
export function parsePort(v: unknown, path: string, issues: Issues, allowZero: boolean): number | string | undefined {
  if (typeof v === 'number') {
    if (!Number.isInteger(v)) {
      issues.add(path, `${quote(v)} is not a port number or a port name`);
      return undefined;
    }
    if (v < (allowZero ? 0 : 1) || v > 65535) {
      issues.add(path, `${v} is out of range ${allowZero ? 0 : 1}-65535`);
      return undefined;
    }
    return v;
  }
  if (typeof v === 'string') {
    if (/^[0-9]+$/.test(v)) return parsePort(Number(v), path, issues, allowZero);
    if (isPortName(v.toLowerCase())) return v.toLowerCase();
    issues.add(path, `${quote(v)} is not a port number or a port name`);
    return undefined;
  }
  issues.add(path, `must be a port number or a port name, got ${typeName(v)}`);
  return undefined;
}

const protocols: readonly string[] = ['TCP', 'UDP', 'SCTP', 'ANY'];

export function parseProtocol(v: unknown, path: string, issues: Issues, allowed = protocols): L4Protocol | undefined {
  if (v === undefined || v === null) return allowed.includes('ANY') ? 'ANY' : 'TCP';
  if (typeof v === 'string' && allowed.includes(v.toUpperCase()) && v === v.toUpperCase()) return v as L4Protocol;
  issues.add(path, `${quote(v)} is not one of ${allowed.join(', ')}`);
  return undefined;
}

export function parseEndPort(
  v: unknown,
  port: number | string | undefined,
  path: string,
  issues: Issues,
): number | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > 65535) {
    issues.add(path, `${quote(v)} is not a port number`);
    return undefined;
  }
  if (typeof port === 'string') {
    issues.add(path, 'may not be used with a named port');
    return undefined;
  }
  if (typeof port === 'number' && v < port) {
    issues.add(path, `${v} is less than port ${port}`);
    return undefined;
  }
  return v;
}

export interface PortRuleContext {
  readonly direction: Direction;
  readonly deny: boolean;
}

export function parseToPorts(v: unknown, path: string, issues: Issues, ctx: PortRuleContext): PortRule[] {
  const list = asList(v, path, issues) ?? [];
  const out: PortRule[] = [];
  list.forEach((item, i) => {
    const ip = `${path}[${i}]`;
    const obj = asObject(item, ip, issues);
    if (obj === undefined) return;
    checkFields(obj, ip, ['ports', 'rules', 'listener', 'originatingTLS', 'terminatingTLS', 'serverNames'], issues);
    for (const unsupported of ['listener', 'originatingTLS', 'terminatingTLS', 'serverNames']) {
      if (obj[unsupported] !== undefined) issues.add(join(ip, unsupported), 'is not supported by cilium-ts');
    }
    const ports: PortProtocol[] = [];
    const portsPath = join(ip, 'ports');
    const portList = obj.ports === undefined || obj.ports === null ? [] : asList(obj.ports, portsPath, issues) ?? [];
    portList.forEach((p, j) => {
      const pp = `${portsPath}[${j}]`;
      const po = asObject(p, pp, issues);
      if (po === undefined) return;
      checkFields(po, pp, ['port', 'endPort', 'protocol'], issues);
      const port = po.port === undefined || po.port === null ? 0 : parsePort(po.port, join(pp, 'port'), issues, true);
      const protocol = parseProtocol(po.protocol, join(pp, 'protocol'), issues);
      const endPort = parseEndPort(po.endPort, port, join(pp, 'endPort'), issues);
      if (port === undefined || protocol === undefined) return;
      ports.push(endPort !== undefined ? { port, endPort, protocol } : { port, protocol });
    });
    let l7;
    if (obj.rules !== undefined && obj.rules !== null) {
      const rp = join(ip, 'rules');
      if (ctx.deny) issues.add(rp, 'L7 rules are not allowed in deny rules');
      else {
        l7 = parseL7Rules(obj.rules, rp, issues, ctx.direction);
        if (l7 !== undefined) checkL7Ports(l7.type, ports, portsPath, issues);
      }
    }
    out.push(l7 !== undefined ? { ports, l7, path: ip } : { ports, path: ip });
  });
  return out;
}

function checkL7Ports(type: string, ports: readonly PortProtocol[], path: string, issues: Issues): void {
  if (ports.length === 0) {
    issues.add(path, `${type} rules need at least one port`);
    return;
  }
  ports.forEach((p, j) => {
    if (type === 'dns' && p.endPort !== undefined && p.endPort !== p.port) {
      issues.add(`${path}[${j}].endPort`, 'port ranges are not supported with DNS rules');
    }
    if (type !== 'dns' && p.protocol !== 'TCP' && p.protocol !== 'ANY') {
      issues.add(`${path}[${j}].protocol`, `${type} rules need protocol TCP or ANY, got ${p.protocol}`);
    }
    if (type === 'dns' && p.protocol === 'SCTP') {
      issues.add(`${path}[${j}].protocol`, 'dns rules need protocol UDP, TCP or ANY, got SCTP');
    }
  });
}

const icmpTypeNames: Readonly<Record<string, number>> = {
  EchoReply: 0,
  DestinationUnreachable: 3,
  Redirect: 5,
  EchoRequest: 8,
  RouterAdvertisement: 9,
  RouterSelection: 10,
  TimeExceeded: 11,
  ParameterProblem: 12,
  Timestamp: 13,
  TimestampReply: 14,
};
const icmpv6TypeNames: Readonly<Record<string, number>> = {
  DestinationUnreachable: 1,
  PacketTooBig: 2,
  TimeExceeded: 3,
  ParameterProblem: 4,
  EchoRequest: 128,
  EchoReply: 129,
  MulticastListenerQuery: 130,
  RouterSolicitation: 133,
  RouterAdvertisement: 134,
  NeighborSolicitation: 135,
  NeighborAdvertisement: 136,
};

/** icmps[].fields[] become port rules with protocol ICMP/ICMPv6 and the type in the port field. */
export function parseIcmps(v: unknown, path: string, issues: Issues): PortRule[] {
  const list = asList(v, path, issues) ?? [];
  const out: PortRule[] = [];
  list.forEach((item, i) => {
    const ip = `${path}[${i}]`;
    const obj = asObject(item, ip, issues);
    if (obj === undefined) return;
    checkFields(obj, ip, ['fields'], issues);
    const fields = asList(obj.fields ?? [], join(ip, 'fields'), issues) ?? [];
    const ports: PortProtocol[] = [];
    fields.forEach((f, j) => {
      const fp = `${ip}.fields[${j}]`;
      const fo = asObject(f, fp, issues);
      if (fo === undefined) return;
      checkFields(fo, fp, ['type', 'family'], issues);
      const family = fo.family ?? 'IPv4';
      if (family !== 'IPv4' && family !== 'IPv6') {
        issues.add(join(fp, 'family'), `${quote(family)} is not one of IPv4, IPv6`);
        return;
      }
      const names = family === 'IPv4' ? icmpTypeNames : icmpv6TypeNames;
      let type: number | undefined;
      if (typeof fo.type === 'number' && Number.isInteger(fo.type) && fo.type >= 0 && fo.type <= 255) type = fo.type;
      else if (typeof fo.type === 'string' && names[fo.type] !== undefined) type = names[fo.type];
      else if (fo.type === undefined) issues.add(join(fp, 'type'), 'required');
      if (type === undefined) {
        if (fo.type !== undefined) issues.add(join(fp, 'type'), `${quote(fo.type)} is not an ${family === 'IPv4' ? 'ICMP' : 'ICMPv6'} type`);
        return;
      }
      ports.push({ port: type, protocol: family === 'IPv4' ? 'ICMP' : 'ICMPv6' });
    });
    out.push({ ports, path: ip });
  });
  return out;
}
