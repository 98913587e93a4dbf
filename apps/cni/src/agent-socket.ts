import { connect } from 'node:net';
import { CniError, CniErrorCode } from './cni-error.js';

/** Whether the agent answers on its API socket; the CNI needs it for every command that changes state. */
export function agentReachable(socketPath: string, timeoutMs = 1000): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = connect(socketPath);
    const done = (ok: boolean) => {
      sock.destroy();
      resolve(ok);
    };
    sock.setTimeout(timeoutMs, () => done(false));
    sock.once('connect', () => done(true));
    sock.once('error', () => done(false));
  });
}

export async function requireAgent(socketPath: string): Promise<void> {
  if (!(await agentReachable(socketPath))) {
    throw new CniError(CniErrorCode.TryAgainLater, 'cilium agent is not reachable', `nothing answers on ${socketPath}; is cilium-agent running?`);
  }
}
