export type * from './types.js';
export { AgentClient, AgentApiError, AgentUnreachableError, DEFAULT_AGENT_SOCKET, resolveSocketPath, unixRequest, type RawResponse } from './client.js';
