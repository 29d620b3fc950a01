import { basisVitestConfig } from '@basis/test-utils/vitest';

// The docs tests: every example runs (examples.test.ts); the built site in headless Chromium (site.test.ts).
export default basisVitestConfig({ include: ['*.test.ts'], testTimeout: 120_000 });
