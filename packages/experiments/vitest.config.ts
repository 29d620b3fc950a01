import { basisVitestConfig } from '@basis/test-utils/vitest';

export default basisVitestConfig();
