import { expect } from 'vitest';
import { allclose, type Tolerance } from './allclose.js';

interface AllcloseMatchers<R = unknown> {
  /** Element-wise `|got - want| <= atol + rtol * |want|`; NaN never passes. */
  toBeAllclose: (want: unknown, tol?: Tolerance) => R;
}

declare module 'vitest' {
  // eslint-disable-next-line @typescript-eslint/no-empty-object-type, @typescript-eslint/no-explicit-any
  interface Matchers<T = any> extends AllcloseMatchers<T> {}
}

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
