import { FilterError } from './filter-error.js';

/**
 * `[namespace/][prefix]`: `kube-system/` selects a whole namespace, `coredns-` a name prefix in the
 * `default` namespace, `kube-system/coredns-` both, and `/coredns-` the prefix in any namespace.
 */
export function compileNamespacedNameMatcher(values: readonly string[], path: string): (namespace: string, name: string) => boolean {
  const selectors = values.map((value, i) => {
    const slash = value.indexOf('/');
    const namespace = slash === -1 ? (value === '' ? '' : 'default') : value.slice(0, slash);
    const prefix = slash === -1 ? value : value.slice(slash + 1);
    if (namespace === '' && prefix === '') {
      throw new FilterError(`${path}[${i}]`, `must be [namespace/][<name>], got ${JSON.stringify(value)}`);
    }
    return { namespace, prefix };
  });
  return (namespace, name) => {
    if (namespace === '' && name === '') return false;
    for (const s of selectors) {
      if ((s.namespace === '' || s.namespace === namespace) && (s.prefix === '' || name.startsWith(s.prefix))) return true;
    }
    return false;
  };
}
