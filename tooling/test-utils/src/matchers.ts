// Type declarations of the numeric matchers registered by ./setup.ts. Packages list
// "@basis/test-utils/matchers" in their tsconfig `types` so tests type-check.
import type { Tolerance } from './allclose.js';

interface AllcloseMatchers<R = unknown> {
  /** Element-wise `|got - want| <= atol + rtol * |want|`; NaN never passes. */
  toBeAllclose: (want: unknown, tol?: Tolerance) => R;
}

declare module 'vitest' {
  // eslint-disable-next-line @typescript-eslint/no-empty-object-type, @typescript-eslint/no-explicit-any
  interface Matchers<T = any> extends AllcloseMatchers<T> {}
}

export {};
