// Plain JavaScript so that Node can load it while vitest reads a package's config file.
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

const conditions = ['@basis/source', 'module', 'node', 'development|production'];

/**
 * The vitest configuration shared by every package: resolves workspace packages to their
 * TypeScript sources (the `@basis/source` export condition), registers the numeric matchers,
 * runs in Node with a forks pool (typed arrays stay in one realm).
 *
 * @param {{ testTimeout?: number, include?: string[] }} [overrides]
 */
export function basisVitestConfig(overrides = {}) {
  return defineConfig({
    resolve: { conditions },
    ssr: { resolve: { conditions, externalConditions: ['@basis/source'] } },
    test: {
      environment: 'node',
      pool: 'forks',
      include: overrides.include ?? ['src/**/*.test.ts', 'test/**/*.test.ts'],
      setupFiles: [fileURLToPath(new URL('../src/setup.ts', import.meta.url))],
      globalSetup: [fileURLToPath(new URL('./global-setup.js', import.meta.url))],
      testTimeout: overrides.testTimeout ?? 60_000,
      hookTimeout: 60_000,
      // The JSON report feeds the one-line summary printed by `pnpm test` (tooling/scripts/test-summary.mjs).
      reporters: ['default', 'json'],
      outputFile: { json: 'reports/vitest.json' },
    },
  });
}
