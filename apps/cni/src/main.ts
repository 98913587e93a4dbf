import { readFileSync } from 'node:fs';
import { requireAgent, agentReachable } from './agent-socket.js';
import { CniError, CniErrorCode } from './cni-error.js';
import { runPlugin, type CniHandlers } from './skel.js';
import { SUPPORTED_VERSIONS } from './versions.js';

const ABOUT = `cilium-cni: the cilium-ts CNI plugin (CNI spec ${SUPPORTED_VERSIONS.join(', ')})

A container runtime runs it with CNI_COMMAND=ADD|DEL|CHECK|VERSION|STATUS|GC in the environment and the
network configuration as JSON on stdin; the result, or an error result, is printed on stdout.`;

// The endpoint API of the agent lands with the agent; until then the plugin speaks the protocol, refuses
// clearly when the agent is absent, and reports that ADD is not available yet when it is present.
const notYet = () => {
  throw new CniError(CniErrorCode.PluginNotAvailable, 'endpoint creation is not implemented in this build of cilium-ts');
};
const handlers: CniHandlers = {
  async add(_inv, conf) {
    await requireAgent(conf.agentSocket);
    return notYet();
  },
  async del() {
    // Nothing this build can create, so nothing to remove: DEL is idempotent by definition.
  },
  async check(_inv, conf) {
    await requireAgent(conf.agentSocket);
    notYet();
  },
  async status(_inv, conf) {
    if (!(await agentReachable(conf.agentSocket))) {
      throw new CniError(CniErrorCode.PluginNotAvailable, 'cilium agent is not reachable', `nothing answers on ${conf.agentSocket}`);
    }
  },
  async gc(_inv, conf) {
    await requireAgent(conf.agentSocket);
  },
};

if (!process.env.CNI_COMMAND) {
  console.error(ABOUT);
  process.exitCode = process.argv.includes('--help') || process.argv.includes('-h') ? 0 : 1;
} else {
  let stdin = '';
  try {
    stdin = process.env.CNI_COMMAND === 'VERSION' && process.stdin.isTTY ? '{}' : readFileSync(0, 'utf8');
  } catch (err) {
    stdin = '';
    process.stdout.write(JSON.stringify(new CniError(CniErrorCode.IoFailure, 'failed to read stdin', (err as Error).message).toResult('1.1.0')));
    process.exit(1);
  }
  const out = await runPlugin(handlers, process.env, stdin);
  process.stdout.write(out.stdout);
  process.exitCode = out.exitCode;
}
