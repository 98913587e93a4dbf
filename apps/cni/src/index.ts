export { ciliumCni } from "./commands.js";
export { CniError, CniErrorCode } from './cni-error.js';
export { parseInvocation, validateIfName, type Invocation, type CniCommand } from './invocation.js';
export { parseNetConf, DEFAULT_AGENT_SOCKET, type NetConf } from './net-conf.js';
export { encodeResult, type CniResult, type CniInterface, type CniIpConfig, type CniRoute } from './result.js';
export { runPlugin, type CniHandlers, type PluginOutput } from './skel.js';
export { SUPPORTED_VERSIONS, negotiateVersion, compareVersions } from './versions.js';
