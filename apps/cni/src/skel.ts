import { CniError, CniErrorCode } from './cni-error.js';
import { parseInvocation, type Invocation } from './invocation.js';
import { parseNetConf, type NetConf } from './net-conf.js';
import { SUPPORTED_VERSIONS, compareVersions } from './versions.js';

/** What the plugin does per command; the skeleton owns the protocol around it. */
export interface CniHandlers {
  add(inv: Invocation, conf: NetConf): Promise<object>;
  del(inv: Invocation, conf: NetConf): Promise<void>;
  check(inv: Invocation, conf: NetConf): Promise<void>;
  status(inv: Invocation, conf: NetConf): Promise<void>;
  gc(inv: Invocation, conf: NetConf): Promise<void>;
}

export interface PluginOutput {
  stdout: string;
  exitCode: number;
}

function versionOf(stdin: string): string {
  try {
    const v = (JSON.parse(stdin) as { cniVersion?: unknown }).cniVersion;
    return typeof v === 'string' ? v : '1.1.0';
  } catch {
    return '1.1.0';
  }
}

/**
 * One invocation of the plugin, as the spec defines it: environment and stdin in, a result or an error
 * result on stdout, exit code 0 or 1. Nothing else is written to stdout.
 */
export async function runPlugin(handlers: CniHandlers, env: NodeJS.ProcessEnv, stdin: string): Promise<PluginOutput> {
  try {
    const inv = parseInvocation(env);
    if (inv.command === 'VERSION') {
      return { stdout: JSON.stringify({ cniVersion: versionOf(stdin), supportedVersions: SUPPORTED_VERSIONS }), exitCode: 0 };
    }
    const conf = parseNetConf(stdin);
    const needs = (min: string, what: string) => {
      if (compareVersions(conf.cniVersion, min) < 0) {
        throw new CniError(CniErrorCode.IncompatibleVersion, `config version does not allow ${what}`, `${what} needs cniVersion ${min} or later, config has ${conf.cniVersion}`);
      }
    };
    switch (inv.command) {
      case 'ADD':
        return { stdout: JSON.stringify(await handlers.add(inv, conf)), exitCode: 0 };
      case 'DEL':
        await handlers.del(inv, conf);
        return { stdout: '', exitCode: 0 };
      case 'CHECK':
        needs('0.4.0', 'CHECK');
        await handlers.check(inv, conf);
        return { stdout: '', exitCode: 0 };
      case 'STATUS':
        needs('1.1.0', 'STATUS');
        await handlers.status(inv, conf);
        return { stdout: '', exitCode: 0 };
      case 'GC':
        needs('1.1.0', 'GC');
        await handlers.gc(inv, conf);
        return { stdout: '', exitCode: 0 };
    }
  } catch (err) {
    const cniErr = err instanceof CniError ? err : new CniError(CniErrorCode.Internal, 'internal error', (err as Error).stack ?? String(err));
    return { stdout: JSON.stringify(cniErr.toResult(versionOf(stdin))), exitCode: 1 };
  }
}
