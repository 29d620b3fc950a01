// Shared validation helpers (internal; not exported from the package entry).
import type * as tf from '@tensorflow/tfjs-core';
import { BasisError, Matrix } from '@basis/tensor';

/** CONFIG_INVALID naming `field` unless `v` is undefined or passes `ok`. */
export function checkOpt(v: unknown, field: string, ok: (x: number) => boolean, what: string): void {
  if (v === undefined) return;
  if (typeof v !== 'number' || !ok(v)) {
    throw new BasisError('CONFIG_INVALID', `${field} must be ${what}, got ${JSON.stringify(v)}`, { details: { field } });
  }
}

/** CONFIG_INVALID naming `field` unless `v` is one of `allowed`. */
export function checkEnum<T extends string>(v: unknown, field: string, allowed: readonly T[]): void {
  if (v === undefined) return;
  if (!allowed.includes(v as T)) {
    throw new BasisError('CONFIG_INVALID', `${field} must be one of ${allowed.map((a) => `'${a}'`).join(', ')}, got ${JSON.stringify(v)}`, { details: { field } });
  }
}

/** Validates a matrix argument: a Matrix, finite, with at least `minRows` rows and one column. */
export function checkMatrix(m: unknown, name: string, minRows = 1): Matrix {
  if (!(m instanceof Matrix)) throw new BasisError('INVALID_ARGUMENT', `${name} must be a Matrix (rows = inputs, columns = units)`);
  if (m.rows < minRows || m.cols < 1) throw new BasisError('TOO_SMALL', `${name} is ${m.rows} x ${m.cols}; it needs at least ${minRows} row(s) and one column`);
  const d = m.data;
  for (let k = 0; k < d.length; k++) {
    if (!Number.isFinite(d[k] as number)) {
      throw new BasisError('NON_FINITE_INPUT', `${name} holds a non-finite value ${d[k]} at (${Math.floor(k / m.cols)}, ${k % m.cols}); remove NaN/Inf rows first`);
    }
  }
  return m;
}

/** SHAPE_MISMATCH unless `ok`. */
export function checkShape(ok: boolean, msg: string): void {
  if (!ok) throw new BasisError('SHAPE_MISMATCH', msg);
}

/** Throws NON_FINITE_INPUT unless every entry of `a` is finite. */
export function checkFiniteArray(a: ArrayLike<number>, name: string): void {
  for (let k = 0; k < a.length; k++) {
    if (!Number.isFinite(a[k] as number)) throw new BasisError('NON_FINITE_INPUT', `${name}[${k}] is ${a[k]}; every value must be finite`);
  }
}

/** Uncentred second-moment matrix `(1/n) Xᵀ X` in float64. */
export function secondMoment(X: Matrix): Matrix {
  const n = X.rows;
  const d = X.cols;
  const out = new Float64Array(d * d);
  const x = X.data;
  for (let r = 0; r < n; r++) {
    const o = r * d;
    for (let i = 0; i < d; i++) {
      const xi = x[o + i] as number;
      if (xi === 0) continue;
      const oi = i * d;
      for (let j = i; j < d; j++) out[oi + j] = (out[oi + j] as number) + xi * (x[o + j] as number);
    }
  }
  for (let i = 0; i < d; i++) {
    for (let j = i; j < d; j++) {
      const v = (out[i * d + j] as number) / n;
      out[i * d + j] = v;
      out[j * d + i] = v;
    }
  }
  return new Matrix(d, d, out);
}

/** `A Bᵀ`. */
export function mulT(A: Matrix, B: Matrix): Matrix {
  checkShape(A.cols === B.cols, `inner sizes differ: ${A.rows}x${A.cols} times (${B.rows}x${B.cols})ᵀ`);
  const out = new Matrix(A.rows, B.rows);
  const k = A.cols;
  for (let i = 0; i < A.rows; i++) {
    for (let j = 0; j < B.rows; j++) {
      let s = 0;
      for (let t = 0; t < k; t++) s += (A.data[i * k + t] as number) * (B.data[j * k + t] as number);
      out.data[i * B.rows + j] = s;
    }
  }
  return out;
}

/** Largest absolute entry. */
export function maxAbs(a: ArrayLike<number>): number {
  let m = 0;
  for (let k = 0; k < a.length; k++) m = Math.max(m, Math.abs(a[k] as number));
  return m;
}

/** Throws NON_FINITE_INPUT (naming the row) unless every value of the tensor `x` (rows = inputs) is finite; TOO_SMALL when it has no rows. */
export function checkFiniteTensor(x: tf.Tensor, name: string): void {
  if (x.rank < 1 || (x.shape[0] as number) < 1) throw new BasisError('TOO_SMALL', `${name} has shape [${x.shape.join(', ')}]; it needs at least one input row`);
  const v = x.dataSync();
  const per = x.size / (x.shape[0] as number);
  for (let k = 0; k < v.length; k++) {
    if (!Number.isFinite(v[k] as number)) throw new BasisError('NON_FINITE_INPUT', `${name} holds ${v[k]} in input row ${Math.floor(k / per)}; remove non-finite inputs`);
  }
}
