import { CniError, CniErrorCode } from './cni-error.js';

export type CniCommand = 'ADD' | 'DEL' | 'CHECK' | 'VERSION' | 'STATUS' | 'GC';
const COMMANDS: readonly CniCommand[] = ['ADD', 'DEL', 'CHECK', 'VERSION', 'STATUS', 'GC'];

/** What the runtime told us through the environment (CNI SPEC "Parameters"). */
export interface Invocation {
  command: CniCommand;
  containerId?: string;
  netns?: string;
  ifName?: string;
  /** CNI_ARGS, e.g. K8S_POD_NAMESPACE and K8S_POD_NAME. */
  args: Record<string, string>;
  path: string[];
}

const REQUIRED: Record<CniCommand, ReadonlyArray<'CNI_CONTAINERID' | 'CNI_NETNS' | 'CNI_IFNAME'>> = {
  ADD: ['CNI_CONTAINERID', 'CNI_NETNS', 'CNI_IFNAME'],
  CHECK: ['CNI_CONTAINERID', 'CNI_NETNS', 'CNI_IFNAME'],
  DEL: ['CNI_CONTAINERID', 'CNI_IFNAME'],
  VERSION: [],
  STATUS: [],
  GC: [],
};

const CONTAINER_ID = /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/;

/** The spec's rule for interface names, which is also the kernel's (IFNAMSIZ). */
export function validateIfName(name: string): string | undefined {
  if (name.length === 0) return 'is empty';
  if (name.length > 15) return `"${name}" is longer than 15 characters`;
  if (name === '.' || name === '..') return `"${name}" is not a valid interface name`;
  if (/[/:\s]/.test(name)) return `"${name}" contains "/", ":" or whitespace`;
  return undefined;
}

export function parseInvocation(env: NodeJS.ProcessEnv): Invocation {
  const raw = env.CNI_COMMAND;
  if (!raw) throw new CniError(CniErrorCode.InvalidEnvironmentVariables, 'required env variables [CNI_COMMAND] missing');
  const command = raw as CniCommand;
  if (!COMMANDS.includes(command)) {
    throw new CniError(CniErrorCode.InvalidEnvironmentVariables, 'invalid CNI_COMMAND', `"${raw}" is not one of ${COMMANDS.join(', ')}`);
  }
  const missing = REQUIRED[command].filter((k) => !env[k]);
  if (missing.length > 0) {
    throw new CniError(CniErrorCode.InvalidEnvironmentVariables, `required env variables [${missing.join(',')}] missing`);
  }
  const containerId = env.CNI_CONTAINERID || undefined;
  if (containerId !== undefined && !CONTAINER_ID.test(containerId)) {
    throw new CniError(CniErrorCode.InvalidEnvironmentVariables, 'invalid CNI_CONTAINERID', `"${containerId}" must match ${CONTAINER_ID.source}`);
  }
  const ifName = env.CNI_IFNAME || undefined;
  if (ifName !== undefined) {
    const problem = validateIfName(ifName);
    if (problem) throw new CniError(CniErrorCode.InvalidEnvironmentVariables, 'invalid CNI_IFNAME', problem);
  }
  const args: Record<string, string> = {};
  for (const pair of (env.CNI_ARGS ?? '').split(';').filter(Boolean)) {
    const eq = pair.indexOf('=');
    if (eq <= 0) throw new CniError(CniErrorCode.InvalidEnvironmentVariables, 'invalid CNI_ARGS', `"${pair}" is not KEY=VALUE`);
    args[pair.slice(0, eq)] = pair.slice(eq + 1);
  }
  return {
    command,
    containerId,
    netns: env.CNI_NETNS || undefined,
    ifName,
    args,
    path: (env.CNI_PATH ?? '').split(':').filter(Boolean),
  };
}
