export { allclose, closeScaled, type AllcloseReport, type Tolerance } from './allclose.js';
export { FIXTURES_DIR, fixturePath, fixtureBytes, fixtureJson, metricCases } from './fixtures.js';
export { expectNoTensorLeak } from './leaks.js';
export { thrownCode, thrownCodeAsync, thrownError, thrownErrorAsync } from './errors.js';
