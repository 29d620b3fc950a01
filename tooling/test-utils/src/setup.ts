import { expect } from 'vitest';
import { allclose, type Tolerance } from './allclose.js';

import './matchers.js';

expect.extend({
  toBeAllclose(received: unknown, want: unknown, tol?: Tolerance) {
    const report = allclose(received as never, want as never, tol);
    return {
      pass: report.ok,
      message: () =>
        report.ok
          ? `expected values not to be allclose (max |diff| ${report.maxAbsDiff})`
          : `expected values to be allclose: ${report.reason}`,
    };
  },
});
