// Level-2 building blocks (dot, axpy) over one Float64Array addressed by offsets: WebAssembly
// SIMD when available, JavaScript otherwise. The JavaScript `dot` sums in exactly the order of
// the wasm kernel (four interleaved partial sums over blocks of 4, then the tail), and `axpy`
// is element-wise, so both paths give bit-identical results.
import { Blas2Workspace } from './wasm-kernels.js';

export interface Blas2 {
  /** The working array (inside wasm memory when `wasm` is true). */
  readonly F: Float64Array;
  readonly wasm: boolean;
  /** sum_t F[x + t] F[y + t], t < n. */
  dot(x: number, y: number, n: number): number;
  /** F[y + t] += alpha F[x + t], t < n. */
  axpy(y: number, x: number, n: number, alpha: number): void;
}

class JsBlas2 implements Blas2 {
  readonly F: Float64Array;
  readonly wasm = false;
  constructor(doubles: number) {
    this.F = new Float64Array(doubles);
  }
  dot(x: number, y: number, n: number): number {
    const F = this.F;
    let a0 = 0, a1 = 0, a2 = 0, a3 = 0;
    const n4 = n - (n % 4);
    let t = 0;
    for (; t < n4; t += 4) {
      a0 += (F[x + t] as number) * (F[y + t] as number);
      a1 += (F[x + t + 1] as number) * (F[y + t + 1] as number);
      a2 += (F[x + t + 2] as number) * (F[y + t + 2] as number);
      a3 += (F[x + t + 3] as number) * (F[y + t + 3] as number);
    }
    let s = a0 + a1 + (a2 + a3);
    for (; t < n; t++) s += (F[x + t] as number) * (F[y + t] as number);
    return s;
  }
  axpy(y: number, x: number, n: number, alpha: number): void {
    if (alpha === 0) return;
    const F = this.F;
    for (let t = 0; t < n; t++) F[y + t] = (F[y + t] as number) + alpha * (F[x + t] as number);
  }
}

/** A zeroed working array of `doubles` entries with dot/axpy kernels. */
export function makeBlas2(doubles: number): Blas2 {
  const ws = Blas2Workspace.create(doubles);
  if (ws === null) return new JsBlas2(doubles);
  return {
    F: ws.F,
    wasm: true,
    dot: (x, y, n) => ws.dot(x, y, n),
    axpy: (y, x, n, alpha) => ws.axpy(y, x, n, alpha),
  };
}
