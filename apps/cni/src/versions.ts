import { CniError, CniErrorCode } from './cni-error.js';

/** Spec versions this plugin speaks; VERSION reports them and anything else is refused with code 1. */
export const SUPPORTED_VERSIONS = ['0.4.0', '1.0.0', '1.1.0'] as const;
export type SupportedVersion = (typeof SUPPORTED_VERSIONS)[number];

function parts(v: string): [number, number, number] {
  const m = /^(\d+)\.(\d+)\.(\d+)$/.exec(v);
  if (!m) throw new CniError(CniErrorCode.IncompatibleVersion, 'invalid cniVersion', `"${v}" is not a version of the form X.Y.Z`);
  return [Number(m[1]), Number(m[2]), Number(m[3])];
}

export function compareVersions(a: string, b: string): number {
  const [pa, pb] = [parts(a), parts(b)];
  for (let i = 0; i < 3; i++) if (pa[i] !== pb[i]) return pa[i]! - pb[i]!;
  return 0;
}

/**
 * The version a configuration asks for: the highest of `cniVersion` and `cniVersions` that we support
 * (the runtime's own rule), or code 1 naming what was asked and what we speak.
 */
export function negotiateVersion(cniVersion: string | undefined, cniVersions: readonly string[] = []): SupportedVersion {
  const asked = [cniVersion ?? '0.1.0', ...cniVersions];
  const ok = asked
    .filter((v): v is SupportedVersion => (SUPPORTED_VERSIONS as readonly string[]).includes(v))
    .sort(compareVersions);
  const best = ok.at(-1);
  if (!best) {
    throw new CniError(
      CniErrorCode.IncompatibleVersion,
      'incompatible CNI versions',
      `config asks for ${asked.join(', ')}; cilium-cni supports ${SUPPORTED_VERSIONS.join(', ')}`,
    );
  }
  return best;
}
