// The one test runner for every project. Projects call `sharedConfig()` from their own
// vitest.config.ts so that tests import sibling libraries from source, not from dist.
import { defineConfig } from 'vitest/config';

export function sharedConfig(overrides: { testTimeout?: number; fileParallelism?: boolean } = {}) {
  return defineConfig({
    resolve: { conditions: ['@cilium-ts/source'] },
    ssr: { resolve: { conditions: ['@cilium-ts/source'] } },
    test: {
      include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
      testTimeout: overrides.testTimeout ?? 20_000,
      hookTimeout: 60_000,
      fileParallelism: overrides.fileParallelism ?? true,
      passWithNoTests: true,
      reporters: ['default'],
    },
  });
}
