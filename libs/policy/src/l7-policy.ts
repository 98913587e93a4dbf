// The L7 policy of an endpoint: per port, the proxy's rules for each peer selector (what the proxy enforces
// after the map state redirected a flow to it).
import type { Direction, L7Parser, L7Rules, RuleOrigin } from './model.js';
import type { L4Key } from './partition.js';
import { l4Number } from './partition.js';

/** The L7 rules of one port for one peer selector, as the proxy needs them. */
export interface L7SelectorPolicy {
  readonly selector: string;
  readonly rules: L7Rules;
  readonly origins: readonly RuleOrigin[];
}

export interface L7PortPolicy {
  readonly direction: Direction;
  readonly protocol: number;
  readonly port: number;
  readonly prefixLength: number;
  readonly parser: L7Parser;
  readonly proxyPort: number;
  readonly perSelector: readonly L7SelectorPolicy[];
}

/** The rules that let everything through a parser: added where a rule on the same port has no L7. */
export function allowAllL7(parser: L7Parser): L7Rules {
  if (parser === 'http') return { type: 'http', rules: [{}] };
  if (parser === 'kafka') return { type: 'kafka', rules: [{}] };
  return { type: 'dns', rules: [{ matchPattern: '*' }] };
}

/** One rule list of a parser from several (of the same parser), without duplicates (S-15: equal rules merge). */
export function concatL7(parser: L7Parser, parts: readonly L7Rules[]): L7Rules {
  const same = parts.filter((p) => p.type === parser);
  switch (parser) {
    case 'http':
      return { type: 'http', rules: dedupe(same.flatMap((p) => (p.type === 'http' ? p.rules : []))) };
    case 'kafka':
      return { type: 'kafka', rules: dedupe(same.flatMap((p) => (p.type === 'kafka' ? p.rules : []))) };
    case 'dns':
      return { type: 'dns', rules: dedupe(same.flatMap((p) => (p.type === 'dns' ? p.rules : []))) };
  }
}

function dedupe<T>(rules: readonly T[]): T[] {
  const seen = new Set<string>();
  return rules.filter((r) => {
    const k = JSON.stringify(r);
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}

interface PortRules {
  readonly key: L4Key;
  readonly parser: L7Parser;
  readonly perSelector: Map<string, { rules: L7Rules[]; origins: RuleOrigin[] }>;
}

/** Collects the allow rules of an endpoint port by port, then merges them into {@link L7PortPolicy}s. */
export class L7PolicyBuilder {
  // By port and parser: different peers may use different parsers on one port (S-15, case 9b).
  private readonly ports = new Map<string, PortRules & { readonly n: number }>();
  private readonly parserOf = new Map<string, L7Parser>();
  private readonly plainAllows = new Map<number, Map<string, RuleOrigin[]>>();

  /** Returns the parser already on this port and selector if it conflicts with `rules`, else records them. */
  addL7(key: L4Key, selector: string, rules: L7Rules, origin: RuleOrigin): L7Parser | undefined {
    const n = l4Number(key);
    const existing = this.parserOf.get(`${n}|${selector}`);
    if (existing !== undefined && existing !== rules.type) return existing;
    this.parserOf.set(`${n}|${selector}`, rules.type);
    const at = `${n}|${rules.type}`;
    let port = this.ports.get(at);
    if (port === undefined) this.ports.set(at, (port = { n, key, parser: rules.type, perSelector: new Map() }));
    let sel = port.perSelector.get(selector);
    if (sel === undefined) port.perSelector.set(selector, (sel = { rules: [], origins: [] }));
    sel.rules.push(rules);
    sel.origins.push(origin);
    return undefined;
  }

  /** An allow without L7 on the same port: its peer may do anything once redirected (S-6, S-7). */
  addPlainAllow(key: L4Key, selector: string, origin: RuleOrigin): void {
    const n = l4Number(key);
    let m = this.plainAllows.get(n);
    if (m === undefined) this.plainAllows.set(n, (m = new Map()));
    const list = m.get(selector);
    if (list === undefined) m.set(selector, [origin]);
    else list.push(origin);
  }

  build(proxyPortFor: (parser: L7Parser, direction: Direction) => number): L7PortPolicy[] {
    const out: L7PortPolicy[] = [];
    for (const port of this.ports.values()) {
      const plain = this.plainAllows.get(port.n) ?? new Map<string, RuleOrigin[]>();
      const perSelector: L7SelectorPolicy[] = [];
      for (const sel of new Set([...port.perSelector.keys(), ...plain.keys()])) {
        const l7 = port.perSelector.get(sel);
        const allowAll = plain.get(sel);
        const parts = [...(l7?.rules ?? []), ...(allowAll !== undefined ? [allowAllL7(port.parser)] : [])];
        perSelector.push({ selector: sel, rules: concatL7(port.parser, parts), origins: [...(l7?.origins ?? []), ...(allowAll ?? [])] });
      }
      out.push({ ...port.key, parser: port.parser, proxyPort: proxyPortFor(port.parser, port.key.direction), perSelector });
    }
    return out;
  }
}
