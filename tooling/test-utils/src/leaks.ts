import { memory } from '@tensorflow/tfjs-core';

/**
 * Runs `fn` (sync or async) and throws if the number of live tfjs tensors afterwards differs from
 * before. Returns `fn`'s result (which must not itself be a tensor the caller should dispose,
 * or pass `allowed` for the number of tensors the result legitimately holds).
 *
 * @example
 * ```ts
 * await expectNoTensorLeak(() => tidy(() => matMul(a, b).sum().dataSync()));
 * ```
 */
export async function expectNoTensorLeak<T>(fn: () => T | Promise<T>, allowed = 0): Promise<T> {
  const before = memory().numTensors;
  const result = await fn();
  const after = memory().numTensors;
  if (after - before !== allowed) {
    throw new Error(
      `tfjs tensor leak: ${after - before} tensors more after the call than before (allowed ${allowed})`,
    );
  }
  return result;
}
