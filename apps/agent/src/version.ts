import { readFileSync } from 'node:fs';

/** The agent's version, as its package states it; reported by Hubble and the API. */
export const AGENT_VERSION: string = (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version;
