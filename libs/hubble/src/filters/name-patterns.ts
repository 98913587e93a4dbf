import { FilterError } from './filter-error.js';

// One or more DNS labels (underscores allowed), used where a pattern element is left empty.
const anyFqdn = '(?:[-0-9_a-z]+(?:\\.[-0-9_a-z]+)*)';

function fqdnPatternSource(pattern: string): string {
  let p = pattern.trim().toLowerCase();
  if (p.endsWith('.')) p = p.slice(0, -1);
  if (p === '') throw new Error('empty pattern');
  if (p.endsWith('.')) throw new Error('multiple trailing dots in pattern');
  let out = '';
  for (const c of p) {
    if (c === '.') out += '\\.';
    else if (c === '*') out += '[-.0-9a-z]*';
    else if (c === '-' || c === '_' || (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z')) out += c;
    else throw new Error(`${JSON.stringify(c)}: invalid rune in pattern`);
  }
  return out;
}

function compileAlternatives(values: readonly string[], path: string, toSource: (v: string) => string): RegExp {
  const parts = values.map((value, i) => {
    try {
      return toSource(value);
    } catch (err) {
      throw new FilterError(`${path}[${i}]`, `${(err as Error).message}: ${JSON.stringify(value)}`);
    }
  });
  return new RegExp(`^(?:${parts.join('|')})$`);
}

/** FQDN globs: `*` spans any run of name characters including dots; a trailing dot is ignored. */
export function compileFqdnPatterns(values: readonly string[], path: string): RegExp {
  return compileAlternatives(values, path, fqdnPatternSource);
}

/**
 * `[cluster/]node` globs. Node names without a cluster are matched as `default/<node>`; an empty
 * element (`cluster/`) matches any name.
 */
export function compileNodeNamePatterns(values: readonly string[], path: string): RegExp {
  return compileAlternatives(values, path, (value) => {
    if (value === '') throw new Error('empty pattern');
    const parts = value.split('/');
    if (parts.length > 2) throw new Error('too many slashes in pattern');
    const [cluster, node] = parts.length === 2 ? [parts[0] ?? '', parts[1] ?? ''] : ['', parts[0] ?? ''];
    return `${cluster === '' ? anyFqdn : fqdnPatternSource(cluster)}/${node === '' ? anyFqdn : fqdnPatternSource(node)}`;
  });
}

/** Go RE2 syntax accepted by upstream, translated where JavaScript differs (leading inline flags). */
export function compileRe2(pattern: string, path: string): RegExp {
  let source = pattern;
  let flags = '';
  const inline = /^\(\?([imsU]+)\)/.exec(source);
  if (inline?.[1] !== undefined) {
    flags = [...new Set(inline[1].replace('U', ''))].join('');
    source = source.slice(inline[0].length);
  }
  source = source.replace(/\\A/g, '^').replace(/\\z/g, '$');
  try {
    return new RegExp(source, flags);
  } catch (err) {
    throw new FilterError(path, `invalid regular expression ${JSON.stringify(pattern)}: ${(err as Error).message}`);
  }
}
