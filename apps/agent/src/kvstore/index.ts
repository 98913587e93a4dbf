import type { AgentConfig } from '../config.js';
import type { AgentSeams } from '../daemon.js';

/** The seams the kvstore adapter fills for this configuration (none yet: placeholders run instead). */
export async function kvstoreSeams(_config: AgentConfig): Promise<{ seams: Partial<AgentSeams>; close(): Promise<void> }> {
  return { seams: {}, close: async () => undefined };
}
