// Deferred application of plane rotations to the columns of a row-major matrix.
//
// QR-type iterations (tridiagonal QL, bidiagonal Golub–Kahan) rotate pairs of *columns* of the
// accumulated eigen/singular vector matrix. In row-major storage a column rotation touches two
// entries of every row; applying each rotation over all rows at once streams the whole matrix
// through memory per rotation. Instead the rotations are recorded (cheap) and applied in batches
// row by row: a row stays in L1 while the whole batch passes over it, and a chain of rotations
// on adjacent columns carries one value in a register. The result is identical to immediate
// application (each row is transformed by the same sequence in the same order). When
// WebAssembly is available the matrix lives in a wasm copy (RotationWorkspace) and the chains
// are applied by a SIMD kernel, 8 rows at a time, with the very same arithmetic.

import { RotationWorkspace } from './wasm-kernels.js';

/** Rotation of the pair (a, b): x_a' = c x_a + s x_b, x_b' = -s x_a + c x_b. */
const ASC = 0; // chain on (j, j+1), j = start .. start+count-1 in that order
const DESC = 1; // chain on (i, i+1), i = start+count-1 down to start
const PAIR = 2; // one rotation on (start, other)

export class RotationLog {
  private readonly target: Float64Array;
  private readonly rows: number;
  private readonly cols: number;
  private readonly cap: number;
  private readonly c: Float64Array;
  private readonly s: Float64Array;
  private kind: Int32Array;
  private start: Int32Array;
  private count: Int32Array;
  private other: Int32Array;
  private nSeq = 0;
  private nRot = 0;
  private open = -1;
  /** WebAssembly copy of the target (null: rotations are applied by the JavaScript loops). */
  private readonly ws: RotationWorkspace | null;
  private readonly seqCap: number;

  /**
   * Rotations will act on the columns of `target` (rows x cols, row-major). Call
   * {@link RotationLog.finish} at the end: until then the target may be stale.
   */
  constructor(target: Float64Array, rows: number, cols: number, capacity = 16384) {
    this.target = target;
    this.rows = rows;
    this.cols = cols;
    this.cap = Math.max(capacity, cols + 1);
    this.c = new Float64Array(this.cap);
    this.s = new Float64Array(this.cap);
    this.seqCap = 4096;
    this.kind = new Int32Array(256);
    this.start = new Int32Array(256);
    this.count = new Int32Array(256);
    this.other = new Int32Array(256);
    this.ws = rows * cols >= 4096 ? RotationWorkspace.create(target, rows, cols, this.cap, this.seqCap) : null;
  }

  private newSeq(kind: number, start: number, other: number): void {
    if (this.nSeq >= this.seqCap) this.flush();
    if (this.nSeq === this.kind.length) {
      const grow = (a: Int32Array): Int32Array => {
        const b = new Int32Array(a.length * 2);
        b.set(a);
        return b;
      };
      this.kind = grow(this.kind);
      this.start = grow(this.start);
      this.count = grow(this.count);
      this.other = grow(this.other);
    }
    const q = this.nSeq++;
    this.kind[q] = kind;
    this.start[q] = start;
    this.count[q] = 0;
    this.other[q] = other;
    this.open = q;
  }

  /**
   * Starts a chain of at most `maxCount` rotations on adjacent column pairs. Ascending: pairs
   * (start, start+1), (start+1, start+2), ...; descending: the chain's rotations are pushed for
   * pairs (start+count-1, start+count), ..., (start, start+1), i.e. `start` is the lowest index.
   */
  beginChain(descending: boolean, start: number, maxCount: number): void {
    if (this.nRot + maxCount > this.cap) this.flush();
    this.newSeq(descending ? DESC : ASC, start, 0);
  }

  /** Appends a rotation to the open chain. */
  push(c: number, s: number): void {
    const r = this.nRot++;
    this.c[r] = c;
    this.s[r] = s;
    this.count[this.open] = (this.count[this.open] as number) + 1;
  }

  /** Records one rotation of columns (a, b). */
  pair(a: number, b: number, c: number, s: number): void {
    if (this.nRot + 1 > this.cap) this.flush();
    this.newSeq(PAIR, a, b);
    this.push(c, s);
  }

  /** Applies every pending rotation and makes the target up to date. */
  finish(): void {
    this.flush();
    if (this.ws !== null) this.ws.copyBack(this.target);
  }

  /** Applies every recorded rotation (to the wasm copy when there is one) and clears the log. */
  flush(): void {
    if (this.nSeq === 0) return;
    if (this.ws !== null) {
      this.flushWasm(this.ws);
      return;
    }
    const { rows, cols } = this;
    let row = 0;
    // Four rows at a time: the rotation (c, s) loads are shared and four independent carried
    // values hide the latency of each chain.
    for (; row + 3 < rows; row += 4) this.apply4(row * cols);
    for (; row < rows; row++) this.apply1(row * cols);
    this.nSeq = 0;
    this.nRot = 0;
    this.open = -1;
  }

  private flushWasm(ws: RotationWorkspace): void {
    const { kind, start, count, other, nSeq, c, s } = this;
    let q0 = 0;
    let r0 = 0;
    let r = 0;
    for (let q = 0; q <= nSeq; q++) {
      if (q < nSeq && kind[q] !== PAIR) {
        r += count[q] as number;
        continue;
      }
      ws.apply(kind, start, count, q0, q, c, s, r0, r - r0);
      if (q < nSeq) {
        ws.pair(start[q] as number, other[q] as number, c[r] as number, s[r] as number);
        r += 1;
      }
      q0 = q + 1;
      r0 = r;
    }
    this.nSeq = 0;
    this.nRot = 0;
    this.open = -1;
  }

  private apply1(base: number): void {
    const { target: X, c: C, s: S, kind, start, count, other, nSeq } = this;
    let r = 0;
    for (let q = 0; q < nSeq; q++) {
      const cnt = count[q] as number;
      const k = kind[q] as number;
      const st = base + (start[q] as number);
      if (k === ASC) {
        let xa = X[st] as number;
        for (let t = 0; t < cnt; t++) {
          const xb = X[st + t + 1] as number;
          const c = C[r + t] as number;
          const s = S[r + t] as number;
          X[st + t] = c * xa + s * xb;
          xa = c * xb - s * xa;
        }
        X[st + cnt] = xa;
      } else if (k === DESC) {
        let xb = X[st + cnt] as number;
        for (let t = 0; t < cnt; t++) {
          const i = st + cnt - 1 - t;
          const xa = X[i] as number;
          const c = C[r + t] as number;
          const s = S[r + t] as number;
          X[i + 1] = c * xb - s * xa;
          xb = c * xa + s * xb;
        }
        X[st] = xb;
      } else {
        const ob = base + (other[q] as number);
        const xa = X[st] as number;
        const xb = X[ob] as number;
        const c = C[r] as number;
        const s = S[r] as number;
        X[st] = c * xa + s * xb;
        X[ob] = c * xb - s * xa;
      }
      r += cnt;
    }
  }

  private apply4(base: number): void {
    const { target: X, cols, c: C, s: S, kind, start, count, other, nSeq } = this;
    let r = 0;
    for (let q = 0; q < nSeq; q++) {
      const cnt = count[q] as number;
      const k = kind[q] as number;
      const s0 = base + (start[q] as number);
      const s1 = s0 + cols;
      const s2 = s1 + cols;
      const s3 = s2 + cols;
      if (k === ASC) {
        let x0 = X[s0] as number, x1 = X[s1] as number, x2 = X[s2] as number, x3 = X[s3] as number;
        for (let t = 0; t < cnt; t++) {
          const c = C[r + t] as number;
          const s = S[r + t] as number;
          const u = t + 1;
          let y = X[s0 + u] as number;
          X[s0 + t] = c * x0 + s * y;
          x0 = c * y - s * x0;
          y = X[s1 + u] as number;
          X[s1 + t] = c * x1 + s * y;
          x1 = c * y - s * x1;
          y = X[s2 + u] as number;
          X[s2 + t] = c * x2 + s * y;
          x2 = c * y - s * x2;
          y = X[s3 + u] as number;
          X[s3 + t] = c * x3 + s * y;
          x3 = c * y - s * x3;
        }
        X[s0 + cnt] = x0;
        X[s1 + cnt] = x1;
        X[s2 + cnt] = x2;
        X[s3 + cnt] = x3;
      } else if (k === DESC) {
        let x0 = X[s0 + cnt] as number, x1 = X[s1 + cnt] as number, x2 = X[s2 + cnt] as number, x3 = X[s3 + cnt] as number;
        for (let t = 0, i = cnt - 1; t < cnt; t++, i--) {
          const c = C[r + t] as number;
          const s = S[r + t] as number;
          const u = i + 1;
          let y = X[s0 + i] as number;
          X[s0 + u] = c * x0 - s * y;
          x0 = c * y + s * x0;
          y = X[s1 + i] as number;
          X[s1 + u] = c * x1 - s * y;
          x1 = c * y + s * x1;
          y = X[s2 + i] as number;
          X[s2 + u] = c * x2 - s * y;
          x2 = c * y + s * x2;
          y = X[s3 + i] as number;
          X[s3 + u] = c * x3 - s * y;
          x3 = c * y + s * x3;
        }
        X[s0] = x0;
        X[s1] = x1;
        X[s2] = x2;
        X[s3] = x3;
      } else {
        const c = C[r] as number;
        const s = S[r] as number;
        const d = (other[q] as number) - (start[q] as number);
        for (const st of [s0, s1, s2, s3]) {
          const xa = X[st] as number;
          const xb = X[st + d] as number;
          X[st] = c * xa + s * xb;
          X[st + d] = c * xb - s * xa;
        }
      }
      r += cnt;
    }
  }
}
