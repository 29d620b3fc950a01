/** Tolerances for {@link allclose}: `|got - want| <= atol + rtol * |want|`. */
export interface Tolerance {
  /** Relative tolerance (default 1e-9). */
  rtol?: number;
  /** Absolute tolerance (default 0). */
  atol?: number;
}

/** Outcome of a comparison: whether it passed and where the worst entry is. */
export interface AllcloseReport {
  ok: boolean;
  /** Human-readable reason when not ok. */
  reason: string;
  /** Index of the worst entry (largest excess over its tolerance), -1 if none. */
  worstIndex: number;
  /** Largest absolute difference seen. */
  maxAbsDiff: number;
}

type Numeric = number | ArrayLike<number> | { data: ArrayLike<number>; rows: number; cols: number };

function flatten(x: Numeric): { values: ArrayLike<number>; shape: number[] } {
  if (typeof x === 'number') return { values: [x], shape: [] };
  if ('data' in x && 'rows' in x && 'cols' in x) return { values: x.data, shape: [x.rows, x.cols] };
  return { values: x as ArrayLike<number>, shape: [(x as ArrayLike<number>).length] };
}

/**
 * Element-wise closeness with NaN never passing (not even NaN vs NaN): `|got - want| <= atol +
 * rtol * |want|`. Shapes must match. Infinite values pass only when equal.
 *
 * @example
 * ```ts
 * allclose([1, 2], [1 + 1e-12, 2], { rtol: 1e-9 }).ok; // true
 * allclose([NaN], [NaN]).ok; // false
 * ```
 */
export function allclose(got: Numeric, want: Numeric, tol: Tolerance = {}): AllcloseReport {
  const rtol = tol.rtol ?? 1e-9;
  const atol = tol.atol ?? 0;
  const g = flatten(got);
  const w = flatten(want);
  const bothMatrices = g.shape.length === 2 && w.shape.length === 2;
  if (g.values.length !== w.values.length || (bothMatrices && g.shape.join('x') !== w.shape.join('x'))) {
    return { ok: false, reason: `shape [${g.shape.join(', ')}] differs from [${w.shape.join(', ')}]`, worstIndex: -1, maxAbsDiff: Infinity };
  }
  let worst = -1;
  let worstExcess = 0;
  let maxAbs = 0;
  for (let k = 0; k < w.values.length; k++) {
    const a = g.values[k] as number;
    const b = w.values[k] as number;
    if (Number.isNaN(a) || Number.isNaN(b)) {
      return { ok: false, reason: `entry ${k} is NaN (got ${a}, want ${b})`, worstIndex: k, maxAbsDiff: NaN };
    }
    if (!Number.isFinite(a) || !Number.isFinite(b)) {
      if (a !== b) return { ok: false, reason: `entry ${k}: got ${a}, want ${b}`, worstIndex: k, maxAbsDiff: Infinity };
      continue;
    }
    const d = Math.abs(a - b);
    if (d > maxAbs) maxAbs = d;
    const excess = d - (atol + rtol * Math.abs(b));
    if (excess > worstExcess) {
      worstExcess = excess;
      worst = k;
    }
  }
  if (worst >= 0) {
    const a = g.values[worst] as number;
    const b = w.values[worst] as number;
    return {
      ok: false,
      reason: `entry ${worst}: got ${a}, want ${b}, |diff| = ${Math.abs(a - b)} > atol ${atol} + rtol ${rtol} * |want|`,
      worstIndex: worst,
      maxAbsDiff: maxAbs,
    };
  }
  return { ok: true, reason: '', worstIndex: -1, maxAbsDiff: maxAbs };
}

/**
 * The fixtures' convention: `|got - want| <= tol * max(1, |want|)` element-wise.
 */
export function closeScaled(got: number, want: number, tol: number): boolean {
  if (Number.isNaN(got) || Number.isNaN(want)) return false;
  return Math.abs(got - want) <= tol * Math.max(1, Math.abs(want));
}
