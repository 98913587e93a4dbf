// L7 rules of a toPorts entry: http, kafka or dns (one kind per port rule).
import type { Direction, DnsRule, HeaderMatch, HttpRule, KafkaRule, L7Rules } from '../model.js';
import type { Issues } from './issues.js';
import { asList, asObject, asString, asStringList, checkFields, join, quote } from './issues.js';

function checkRegex(v: string, path: string, issues: Issues, what: string): void {
  try {
    new RegExp(v);
  } catch {
    issues.add(path, `${quote(v)} is not a valid ${what} regular expression`);
  }
}

const kafkaApiKeys = new Set([
  'produce', 'fetch', 'offsets', 'metadata', 'leaderandisr', 'stopreplica', 'updatemetadata',
  'controlledshutdown', 'offsetcommit', 'offsetfetch', 'findcoordinator', 'joingroup', 'heartbeat',
  'leavegroup', 'syncgroup', 'describegroups', 'listgroups', 'saslhandshake', 'apiversions',
  'createtopics', 'deletetopics', 'deleterecords', 'initproducerid', 'offsetforleaderepoch',
  'addpartitionstotxn', 'addoffsetstotxn', 'endtxn', 'writetxnmarkers', 'txnoffsetcommit',
  'describeacls', 'createacls', 'deleteacls', 'describeconfigs', 'alterconfigs',
]);

// Kafka topics: at most 255 characters of [a-zA-Z0-9._-] (upstream kafka.go).
const topicRe = /^[a-zA-Z0-9._-]{1,255}$/;
const dnsNameRe = /^[-a-zA-Z0-9_.]+\.?$/;
const dnsPatternRe = /^[-a-zA-Z0-9_.*]+\.?$/;

function parseHttp(v: unknown, path: string, issues: Issues): HttpRule[] {
  const list = asList(v, path, issues) ?? [];
  const out: HttpRule[] = [];
  list.forEach((item, i) => {
    const ip = `${path}[${i}]`;
    const o = asObject(item, ip, issues);
    if (o === undefined) return;
    checkFields(o, ip, ['method', 'path', 'host', 'headers', 'headerMatches'], issues);
    const rule: { -readonly [K in keyof HttpRule]: HttpRule[K] } = {};
    for (const field of ['method', 'path', 'host'] as const) {
      if (o[field] === undefined) continue;
      const s = asString(o[field], join(ip, field), issues);
      if (s === undefined) continue;
      checkRegex(s, join(ip, field), issues, field);
      rule[field] = s;
    }
    if (o.headers !== undefined) {
      const h = asStringList(o.headers, join(ip, 'headers'), issues);
      if (h !== undefined) rule.headers = h;
    }
    if (o.headerMatches !== undefined) {
      const hp = join(ip, 'headerMatches');
      const matches: HeaderMatch[] = [];
      (asList(o.headerMatches, hp, issues) ?? []).forEach((m, j) => {
        const mp = `${hp}[${j}]`;
        const mo = asObject(m, mp, issues);
        if (mo === undefined) return;
        checkFields(mo, mp, ['name', 'value', 'mismatch', 'secret'], issues);
        if (mo.secret !== undefined) issues.add(join(mp, 'secret'), 'is not supported by cilium-ts');
        const name = mo.name === undefined ? undefined : asString(mo.name, join(mp, 'name'), issues);
        if (mo.name === undefined) issues.add(join(mp, 'name'), 'required');
        const value = mo.value === undefined ? undefined : asString(mo.value, join(mp, 'value'), issues);
        let mismatch: HeaderMatch['mismatch'];
        if (mo.mismatch !== undefined) {
          if (mo.mismatch === 'LOG' || mo.mismatch === 'ADD' || mo.mismatch === 'DELETE' || mo.mismatch === 'REPLACE') {
            mismatch = mo.mismatch;
          } else issues.add(join(mp, 'mismatch'), `${quote(mo.mismatch)} is not one of LOG, ADD, DELETE, REPLACE`);
        }
        if (name === undefined) return;
        matches.push({
          name,
          ...(value !== undefined ? { value } : {}),
          ...(mismatch !== undefined ? { mismatch } : {}),
        });
      });
      rule.headerMatches = matches;
    }
    out.push(rule);
  });
  return out;
}

function parseKafka(v: unknown, path: string, issues: Issues): KafkaRule[] {
  const list = asList(v, path, issues) ?? [];
  const out: KafkaRule[] = [];
  list.forEach((item, i) => {
    const ip = `${path}[${i}]`;
    const o = asObject(item, ip, issues);
    if (o === undefined) return;
    checkFields(o, ip, ['role', 'apiKey', 'apiVersion', 'clientID', 'topic'], issues);
    const rule: { -readonly [K in keyof KafkaRule]: KafkaRule[K] } = {};
    if (o.role !== undefined) {
      if (o.role === 'produce' || o.role === 'consume') rule.role = o.role;
      else issues.add(join(ip, 'role'), `${quote(o.role)} is not one of produce, consume`);
    }
    if (o.apiKey !== undefined) {
      const k = asString(o.apiKey, join(ip, 'apiKey'), issues);
      if (k !== undefined && !kafkaApiKeys.has(k.toLowerCase())) {
        issues.add(join(ip, 'apiKey'), `${quote(k)} is not a Kafka API key`);
      } else if (k !== undefined) rule.apiKey = k.toLowerCase();
    }
    if (o.role !== undefined && o.apiKey !== undefined) issues.add(ip, 'role and apiKey are mutually exclusive');
    if (o.apiVersion !== undefined) {
      const s = typeof o.apiVersion === 'number' ? String(o.apiVersion) : asString(o.apiVersion, join(ip, 'apiVersion'), issues);
      if (s !== undefined && !/^[0-9]+$/.test(s)) issues.add(join(ip, 'apiVersion'), `${quote(s)} is not a number`);
      else if (s !== undefined) rule.apiVersion = s;
    }
    if (o.clientID !== undefined) {
      const s = asString(o.clientID, join(ip, 'clientID'), issues);
      if (s !== undefined) rule.clientID = s;
    }
    if (o.topic !== undefined) {
      const s = asString(o.topic, join(ip, 'topic'), issues);
      if (s !== undefined && !topicRe.test(s)) issues.add(join(ip, 'topic'), `${quote(s)} is not a valid Kafka topic name`);
      else if (s !== undefined) rule.topic = s;
    }
    out.push(rule);
  });
  return out;
}

/** matchName/matchPattern pairs, shared by dns rules and toFQDNs. */
export function parseDnsSelectors(v: unknown, path: string, issues: Issues): DnsRule[] {
  const list = asList(v, path, issues) ?? [];
  const out: DnsRule[] = [];
  list.forEach((item, i) => {
    const ip = `${path}[${i}]`;
    const o = asObject(item, ip, issues);
    if (o === undefined) return;
    checkFields(o, ip, ['matchName', 'matchPattern'], issues);
    if ((o.matchName === undefined) === (o.matchPattern === undefined)) {
      issues.add(ip, 'exactly one of matchName or matchPattern is required');
      return;
    }
    if (o.matchName !== undefined) {
      const s = asString(o.matchName, join(ip, 'matchName'), issues);
      if (s !== undefined && !dnsNameRe.test(s)) issues.add(join(ip, 'matchName'), `${quote(s)} is not a DNS name`);
      else if (s !== undefined) out.push({ matchName: s.toLowerCase().replace(/\.$/, '') });
    } else {
      const s = asString(o.matchPattern, join(ip, 'matchPattern'), issues);
      if (s !== undefined && !dnsPatternRe.test(s)) issues.add(join(ip, 'matchPattern'), `${quote(s)} is not a DNS pattern`);
      else if (s !== undefined) out.push({ matchPattern: s.toLowerCase().replace(/\.$/, '') });
    }
  });
  return out;
}

export function parseL7Rules(v: unknown, path: string, issues: Issues, direction: Direction): L7Rules | undefined {
  const o = asObject(v, path, issues);
  if (o === undefined) return undefined;
  checkFields(o, path, ['http', 'kafka', 'dns', 'l7proto', 'l7'], issues);
  if (o.l7proto !== undefined || o.l7 !== undefined) issues.add(join(path, 'l7proto'), 'generic L7 rules are not supported by cilium-ts');
  const kinds = (['http', 'kafka', 'dns'] as const).filter((k) => o[k] !== undefined);
  if (kinds.length > 1) {
    issues.add(path, `only one of http, kafka, dns may be set, got ${kinds.join(', ')}`);
    return undefined;
  }
  const kind = kinds[0];
  if (kind === undefined) return undefined;
  if (kind === 'http') return { type: 'http', rules: parseHttp(o.http, join(path, 'http'), issues) };
  if (kind === 'kafka') return { type: 'kafka', rules: parseKafka(o.kafka, join(path, 'kafka'), issues) };
  if (direction === 'ingress') {
    issues.add(join(path, 'dns'), 'DNS rules are only allowed in egress rules');
    return undefined;
  }
  return { type: 'dns', rules: parseDnsSelectors(o.dns, join(path, 'dns'), issues) };
}
