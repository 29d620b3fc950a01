import { basisVitestConfig } from './config/vitest.js';

export default basisVitestConfig();
