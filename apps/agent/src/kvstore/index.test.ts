// Which seams the kvstore adapter fills depends on the configuration alone.
import { describe, expect, it } from 'vitest';
import { buildConfig, ConfigError } from '../config.js';
import { kvstoreSeams } from './index.js';

describe('kvstoreSeams', () => {
  it('fills nothing without kvstore-endpoints, so the placeholders run', async () => {
    const part = await kvstoreSeams(buildConfig({ 'node-name': 'n1', 'pod-cidr': '10.0.1.0/24' }));
    expect(part.seams).toEqual({});
    expect(part.cluster).toBeUndefined();
    await part.close();
  });

  it('needs the node IP with a kvstore: other nodes reach its pods through it', async () => {
    const config = buildConfig({ 'node-name': 'n1', 'pod-cidr': '10.0.1.0/24', 'kvstore-endpoints': 'http://127.0.0.1:2379' });
    const err = await kvstoreSeams(config).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).field).toBe('node-ip');
  });
});
