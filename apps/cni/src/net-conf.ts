import { CniError, CniErrorCode } from './cni-error.js';
import { negotiateVersion, type SupportedVersion } from './versions.js';
import type { CniResult } from './result.js';

export const DEFAULT_AGENT_SOCKET = '/var/run/cilium/cilium.sock';

/** The network configuration on stdin, with the fields cilium-cni reads; unknown keys are ignored, as the spec asks. */
export interface NetConf {
  cniVersion: SupportedVersion;
  name: string;
  type: string;
  prevResult?: CniResult;
  runtimeConfig: Record<string, unknown>;
  /** The agent's API socket. Ours, not upstream's: the lab runs several agents on one machine. */
  agentSocket: string;
  /** MTU for the pod's interface; 1450 leaves room for VXLAN on a 1500-byte underlay. */
  mtu: number;
  /** GC input (spec 1.1): the attachments the runtime still knows; everything else is garbage. */
  validAttachments: Array<{ containerID: string; ifname: string }>;
}

const NETWORK_NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/;

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Parses stdin; decoding failures are code 6, semantic ones code 7, and each names the key. */
export function parseNetConf(stdin: string): NetConf {
  let doc: unknown;
  try {
    doc = JSON.parse(stdin);
  } catch (err) {
    throw new CniError(CniErrorCode.DecodingFailure, 'failed to decode network configuration from stdin', (err as Error).message);
  }
  if (!isRecord(doc)) throw new CniError(CniErrorCode.DecodingFailure, 'failed to decode network configuration from stdin', 'it is not a JSON object');

  const problems: string[] = [];
  const str = (key: string): string | undefined => {
    const v = doc[key];
    if (v === undefined) return undefined;
    if (typeof v !== 'string') problems.push(`${key}: must be a string, got ${JSON.stringify(v)}`);
    return typeof v === 'string' ? v : undefined;
  };
  const cniVersion = str('cniVersion');
  const cniVersionsRaw = doc.cniVersions;
  const cniVersions = Array.isArray(cniVersionsRaw) && cniVersionsRaw.every((v) => typeof v === 'string') ? (cniVersionsRaw as string[]) : [];
  if (cniVersionsRaw !== undefined && cniVersions.length === 0 && !(Array.isArray(cniVersionsRaw) && cniVersionsRaw.length === 0)) {
    problems.push('cniVersions: must be a list of version strings');
  }
  const name = str('name');
  if (name === undefined) problems.push('name: is required');
  else if (!NETWORK_NAME.test(name)) problems.push(`name: "${name}" must match ${NETWORK_NAME.source}`);
  const type = str('type') ?? 'cilium-cni';
  const agentSocket = str('agent-socket') ?? DEFAULT_AGENT_SOCKET;
  const mtuRaw = doc.mtu;
  if (mtuRaw !== undefined && !(Number.isInteger(mtuRaw) && (mtuRaw as number) >= 576 && (mtuRaw as number) <= 9000)) {
    problems.push(`mtu: ${JSON.stringify(mtuRaw)} is not an integer between 576 and 9000`);
  }
  if (doc.runtimeConfig !== undefined && !isRecord(doc.runtimeConfig)) problems.push('runtimeConfig: must be an object');
  if (doc.prevResult !== undefined && !isRecord(doc.prevResult)) problems.push('prevResult: must be an object');
  const attachments = doc['cni.dev/valid-attachments'];
  const validAttachments: NetConf['validAttachments'] = [];
  if (attachments !== undefined) {
    if (!Array.isArray(attachments)) problems.push('cni.dev/valid-attachments: must be a list');
    else
      attachments.forEach((a: unknown, i: number) => {
        if (isRecord(a) && typeof a.containerID === 'string' && typeof a.ifname === 'string') validAttachments.push({ containerID: a.containerID, ifname: a.ifname });
        else problems.push(`cni.dev/valid-attachments[${i}]: must be {containerID, ifname}`);
      });
  }
  if (problems.length > 0) throw new CniError(CniErrorCode.InvalidNetworkConfig, 'invalid network configuration', problems.join('; '));

  return {
    cniVersion: negotiateVersion(cniVersion, cniVersions),
    name: name!,
    type,
    ...(isRecord(doc.prevResult) ? { prevResult: doc.prevResult as unknown as CniResult } : {}),
    runtimeConfig: isRecord(doc.runtimeConfig) ? doc.runtimeConfig : {},
    agentSocket,
    mtu: (mtuRaw as number | undefined) ?? 1450,
    validAttachments,
  };
}
