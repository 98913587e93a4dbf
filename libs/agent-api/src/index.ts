export type * from './types.js';
export { AgentClient, AgentApiError, AgentUnreachableError, DEFAULT_AGENT_SOCKET, resolveSocketPath, streamNdjson, unixRequest, type RawResponse } from './client.js';
