import { BasisError, Matrix, createRng, haarOrthogonal, lstsq, singularValues, type MatrixLike, type Rng } from '@basis/tensor';
import { listActivations, phiByLemma, phiOf, type Activation } from './activations.js';
import { GroupElement } from './elements.js';
import { groupLabel, sampleElement, type GroupKind, type PhiRule } from './groups.js';

/** Options of the numeric intertwiner test. */
export interface IntertwinerOptions {
  /** Number of random inputs x (default 2000; at least 2n). */
  samples?: number;
  /** Generator for the inputs (default `createRng(seed)`). */
  rng?: Rng;
  /** Seed used when no `rng` is given (default 0). */
  seed?: number;
  /** Standard deviation of the Gaussian inputs (default 1). */
  inputScale?: number;
}

/** Result of {@link intertwinerResidual}. */
export interface IntertwinerFit {
  /** The least-squares B minimising `Σ ||σ(A x) - B σ(x)||²`. */
  B: Matrix;
  /** `||σ(AX) - B σ(X)||_F / ||σ(AX)||_F`: 0 (to rounding) when A is in the intertwiner group. */
  residual: number;
  /** Smallest / largest singular value of B: near 0 means B is not invertible (A ∉ G_σ even if the residual is 0). */
  inverseCondition: number;
  /** Number of inputs used. */
  samples: number;
}

function checkFn(fn: unknown): (x: number) => number {
  if (typeof fn !== 'function') throw new BasisError('INVALID_ARGUMENT', 'the activation must be a function (x: number) => number');
  return fn as (x: number) => number;
}

function evalAct(fn: (x: number) => number, x: number): number {
  const y = fn(x);
  if (typeof y !== 'number' || !Number.isFinite(y)) {
    throw new BasisError('NON_FINITE_INPUT', `the activation returned ${String(y)} at x = ${x}; it must return a finite number for every real input`);
  }
  return y;
}

/**
 * Numeric intertwiner test (seeds-spec S1, S4): fits B by least squares in `σ(A x) ≈ B σ(x)` over
 * random Gaussian inputs and reports the relative residual. A true group element gives a residual
 * at rounding level (≈1e-15) and an invertible B; for ReLU and a Haar-random rotation the residual
 * is about 0.5.
 *
 * @example
 * ```ts
 * import { createRng, haarOrthogonal } from '@basis/tensor';
 * import { intertwinerResidual } from '@basis/symmetry';
 * const relu = (x: number) => Math.max(x, 0);
 * intertwinerResidual(relu, haarOrthogonal(5, createRng(1))).residual; // ≈ 0.57: not a symmetry
 * ```
 */
export function intertwinerResidual(fn: (x: number) => number, A: GroupElement | MatrixLike, opts: IntertwinerOptions = {}): IntertwinerFit {
  const f = checkFn(fn);
  const a = A instanceof GroupElement ? A.toMatrix() : Matrix.from(A instanceof Matrix ? A.toArray() : (A as number[][]));
  const n = a.rows;
  if (a.cols !== n) throw new BasisError('SHAPE_MISMATCH', `A must be square, got ${a.rows} x ${a.cols}`);
  if (n < 1) throw new BasisError('TOO_SMALL', 'A must act on at least one unit');
  if (!a.isFinite()) throw new BasisError('NON_FINITE_INPUT', 'A holds NaN or Inf');
  const S = opts.samples ?? 2000;
  if (!Number.isInteger(S) || S < 2 * n) throw new BasisError('TOO_SMALL', `samples must be an integer >= 2n = ${2 * n}, got ${S}`);
  const scale = opts.inputScale ?? 1;
  if (!Number.isFinite(scale) || scale <= 0) throw new BasisError('INVALID_ARGUMENT', `inputScale must be a positive number, got ${scale}`);
  const rng = opts.rng ?? createRng(opts.seed ?? 0);
  const sx = new Matrix(S, n); // rows: σ(x)ᵀ
  const y = new Matrix(S, n); // rows: σ(A x)ᵀ
  const x = new Float64Array(n);
  let yNorm = 0;
  for (let s = 0; s < S; s++) {
    for (let j = 0; j < n; j++) x[j] = scale * rng.normal();
    for (let i = 0; i < n; i++) {
      let ax = 0;
      for (let j = 0; j < n; j++) ax += (a.data[i * n + j] as number) * (x[j] as number);
      const v = evalAct(f, ax);
      y.data[s * n + i] = v;
      yNorm += v * v;
      sx.data[s * n + i] = evalAct(f, x[i] as number);
    }
  }
  if (!(yNorm > 0)) {
    throw new BasisError('INVALID_ARGUMENT', 'the activation is 0 on every probe input, so no intertwiner can be identified');
  }
  const fit = lstsq(sx, y); // sx Bᵀ ≈ y
  const B = fit.x.transpose();
  let res = 0;
  for (const r of fit.residuals) res += r;
  const sv = singularValues(B);
  const smax = sv[0] ?? 0;
  const smin = sv[sv.length - 1] ?? 0;
  return { B, residual: Math.sqrt(Math.max(res, 0) / yNorm), inverseCondition: smax > 0 ? smin / smax : 0, samples: S };
}

/** The families of candidate symmetries the probe tries. */
export type ProbeFamily = 'permutation' | 'sign' | 'positive-scale' | 'orthogonal' | 'invertible';

/** Options of {@link probeActivation}. */
export interface ProbeOptions extends IntertwinerOptions {
  /** Number of units (default 4). */
  n?: number;
  /** Random elements tried per family (default 3). */
  trials?: number;
  /** A family survives when every residual is below this (default 1e-6). */
  tol?: number;
}

/** What {@link probeActivation} found. */
export interface ProbeResult {
  /** Worst residual and verdict per family of candidate symmetries. */
  families: Record<ProbeFamily, { residual: number; survives: boolean }>;
  /** The largest group among the typed kinds that the survivors generate, or null if not even permutations survive. */
  group: GroupKind | null;
  /** Readable form of `group`. */
  label: string;
  /** φ identified on the group's elements: A, |A| or A^∘d; `'other'` when B fits none of them. */
  phi: PhiRule | 'other' | null;
  /** Worst `max|B - φ(A)| / max|φ(A)|` of the identified φ. */
  phiError: number;
  n: number;
  samples: number;
}

/**
 * Classifies an activation's intertwiner group numerically: tries random permutations, sign
 * flips, positive scalings, Haar rotations and general invertible maps, keeps the families whose
 * least-squares residual is at rounding level, names the typed group they generate, and
 * identifies φ. Use it for activations without a closed form (GELU, SiLU, softplus: permutations
 * only) and to check the closed forms.
 *
 * @example
 * ```ts
 * import { probeActivation } from '@basis/symmetry';
 * probeActivation(Math.tanh).group;                           // 'signed-permutation'
 * probeActivation((x) => x / (1 + Math.exp(-x))).group;      // 'permutation' (SiLU)
 * ```
 */
export function probeActivation(fn: (x: number) => number, opts: ProbeOptions = {}): ProbeResult {
  const f = checkFn(fn);
  const n = opts.n ?? 4;
  if (!Number.isInteger(n) || n < 2) throw new BasisError('TOO_SMALL', `probe needs n >= 2 units, got ${n}`);
  const trials = opts.trials ?? 3;
  if (!Number.isInteger(trials) || trials < 1) throw new BasisError('INVALID_ARGUMENT', `trials must be a positive integer, got ${trials}`);
  const tol = opts.tol ?? 1e-6;
  if (!(tol > 0)) throw new BasisError('INVALID_ARGUMENT', `tol must be positive, got ${tol}`);
  const samples = opts.samples ?? Math.max(400, 50 * n);
  const rng = opts.rng ?? createRng(opts.seed ?? 0);
  const inputRng = rng.fork('inputs');
  const fitOpts = { samples, inputScale: opts.inputScale ?? 1 };
  const draw = (family: ProbeFamily): GroupElement => {
    switch (family) {
      case 'permutation': {
        // a derangement-like random permutation (never the identity)
        let p = sampleElement({ kind: 'permutation', size: n }, rng);
        while (p.isIdentity()) p = sampleElement({ kind: 'permutation', size: n }, rng);
        return p;
      }
      case 'sign': {
        const s = Float64Array.from({ length: n }, () => (rng.int(2) === 0 ? -1 : 1));
        s[rng.int(n)] = -1; // at least one flip
        return GroupElement.diagonal(s);
      }
      case 'positive-scale':
        return sampleElement({ kind: 'positive-scale', size: n }, rng, { scaleSigma: 0.7 });
      case 'orthogonal':
        return GroupElement.dense(haarOrthogonal(n, rng));
      case 'invertible':
        return sampleElement({ kind: 'invertible', size: n }, rng).compose(GroupElement.dense(haarOrthogonal(n, rng)));
    }
  };
  const worst = (family: ProbeFamily): { residual: number; survives: boolean } => {
    let r = 0;
    let invertible = true;
    for (let t = 0; t < trials; t++) {
      const fit = intertwinerResidual(f, draw(family), { ...fitOpts, rng: inputRng.fork(`${family}-${t}`) });
      r = Math.max(r, fit.residual);
      if (fit.inverseCondition < 1e-8) invertible = false;
    }
    return { residual: r, survives: r <= tol && invertible };
  };
  const families = {
    permutation: worst('permutation'),
    sign: worst('sign'),
    'positive-scale': worst('positive-scale'),
    orthogonal: worst('orthogonal'),
    invertible: worst('invertible'),
  } satisfies Record<ProbeFamily, { residual: number; survives: boolean }>;
  let group: GroupKind | null;
  if (families.invertible.survives) group = 'invertible';
  else if (!families.permutation.survives) group = null;
  else if (families.sign.survives && families['positive-scale'].survives) group = 'monomial';
  else if (families.sign.survives) group = 'signed-permutation';
  else if (families['positive-scale'].survives) group = 'positive-monomial';
  else if (families.orthogonal.survives) group = 'orthogonal';
  else group = 'permutation';

  let phi: PhiRule | 'other' | null = null;
  let phiError = 0;
  if (group !== null) {
    const candidates: PhiRule[] = ['identity', 'abs', ...[2, 3, 4, 5, 6].map((d) => ({ power: d }))];
    const errors = new Float64Array(candidates.length);
    for (let t = 0; t < trials; t++) {
      const A = sampleElement({ kind: group, size: n }, rng, { scaleSigma: 0.7 });
      const B = intertwinerResidual(f, A, { ...fitOpts, rng: inputRng.fork(`phi-${t}`) }).B;
      candidates.forEach((c, k) => {
        const P = c === 'identity' ? A.toMatrix() : A.isMonomial ? (c === 'abs' ? A.mapEntries(Math.abs) : A.mapEntries((x) => x ** c.power)).toMatrix() : null;
        errors[k] = Math.max(errors[k] as number, P === null ? Infinity : maxRelDiff(B, P));
      });
    }
    let best = 0;
    for (let k = 1; k < candidates.length; k++) if ((errors[k] as number) < (errors[best] as number)) best = k;
    phiError = errors[best] as number;
    phi = phiError <= Math.max(tol, 1e-6) * 10 ? (candidates[best] as PhiRule) : 'other';
  }
  return { families, group, label: group === null ? 'none (not even permutations commute with σ)' : groupLabel(group), phi, phiError, n, samples };
}

function maxRelDiff(a: Matrix, b: Matrix): number {
  let num = 0;
  let den = 0;
  for (let k = 0; k < a.data.length; k++) {
    num = Math.max(num, Math.abs((a.data[k] as number) - (b.data[k] as number)));
    den = Math.max(den, Math.abs(b.data[k] as number));
  }
  return num / Math.max(den, 1e-300);
}

/** One row of the computed activation/group table. */
export interface SymmetryTableRow {
  id: string;
  formula: string;
  /** Closed-form group (S003 Table 1 / extensions), or 'unknown (probe)'. */
  declared: string;
  /** Group found by {@link probeActivation}. */
  probed: string;
  /** φ in words: 'A', '|A|', 'A^∘d', or what the probe found. */
  phi: string;
  /** Whether the closed form and the probe agree (true for probe-only rows when the probe found a group). */
  agree: boolean;
  /** Worst relative `|σ(Ax) - φ(A)σ(x)|` over random elements and inputs (null without a closed form). */
  actionError: number | null;
  /** Worst `|φ(AB) - φ(A)φ(B)|` and `|φ(A⁻¹) - φ(A)⁻¹|` (null without a closed form). */
  homomorphismError: number | null;
  /** Worst `|σ(A)σ(I)⁻¹ - φ(A)|` (Lemma 3.1; null without a closed form). */
  lemmaError: number | null;
  /** Least-squares residual of a Haar rotation (> 0.1 unless the group is GL_n). */
  orthogonalResidual: number;
}

function phiWords(phi: PhiRule | 'other' | null): string {
  if (phi === null) return '-';
  if (phi === 'other') return 'other';
  if (phi === 'identity') return 'A';
  if (phi === 'abs') return '|A|';
  return `A^∘${phi.power}`;
}

/**
 * The activation/group table (S003 Table 1 plus tanh, GELU, SiLU and softplus), computed rather
 * than copied: for every registered activation the probe classifies the group, and for the closed
 * forms random elements check `σ(Ax) = φ(A)σ(x)`, the homomorphism laws and Lemma 3.1.
 *
 * @example
 * ```ts
 * import { symmetryTable } from '@basis/symmetry';
 * for (const row of symmetryTable()) console.log(row.id, row.probed, row.agree);
 * ```
 */
export function symmetryTable(opts: { n?: number; seed?: number; trials?: number; activations?: Activation[] } = {}): SymmetryTableRow[] {
  const n = opts.n ?? 4;
  const trials = opts.trials ?? 3;
  const rng = createRng(opts.seed ?? 0);
  return (opts.activations ?? listActivations()).map((act) => {
    const probe = probeActivation(act.fn, { n, trials, rng: rng.fork(`probe-${act.id}-${act.formula}`) });
    const orth = intertwinerResidual(act.fn, haarOrthogonal(n, rng.fork(`orth-${act.formula}`)), { rng: rng.fork(`orth-x-${act.formula}`) }).residual;
    if (act.group === null || act.phi === null) {
      return {
        id: act.id,
        formula: act.formula,
        declared: 'unknown (probe)',
        probed: probe.label,
        phi: phiWords(probe.phi),
        agree: probe.group !== null,
        actionError: null,
        homomorphismError: null,
        lemmaError: null,
        orthogonalResidual: orth,
      };
    }
    const r = rng.fork(`check-${act.formula}`);
    let actionError = 0;
    let homError = 0;
    let lemmaError = 0;
    const decl = { kind: act.group, size: n };
    for (let t = 0; t < trials; t++) {
      const A = sampleElement(decl, r, { scaleSigma: 0.7 });
      const B = sampleElement(decl, r, { scaleSigma: 0.7 });
      const pA = phiOf(act, A);
      actionError = Math.max(actionError, actionDefect(act.fn, A, pA, r));
      homError = Math.max(homError, phiOf(act, A.compose(B)).distance(pA.compose(phiOf(act, B))) / scaleOf(pA.compose(phiOf(act, B))));
      homError = Math.max(homError, phiOf(act, A.inverse()).distance(pA.inverse()) / scaleOf(pA.inverse()));
      lemmaError = Math.max(lemmaError, maxRelDiff(phiByLemma(act.fn, A), pA.toMatrix()));
    }
    return {
      id: act.id,
      formula: act.formula,
      declared: groupLabel(act.group),
      probed: probe.label,
      phi: phiWords(act.phi),
      agree: probe.group === act.group && phiWords(probe.phi) === phiWords(act.phi),
      actionError,
      homomorphismError: homError,
      lemmaError,
      orthogonalResidual: orth,
    };
  });
}

function scaleOf(A: GroupElement): number {
  let m = 0;
  for (const v of A.toMatrix().data) m = Math.max(m, Math.abs(v));
  return m;
}

/** Worst relative `|σ(Ax) - φ(A)σ(x)|` over 64 random x. */
export function actionDefect(fn: (x: number) => number, A: GroupElement, phiA: GroupElement, rng: Rng, samples = 64): number {
  const n = A.n;
  const a = A.toMatrix().data;
  const p = phiA.toMatrix().data;
  let worst = 0;
  const x = new Float64Array(n);
  const sx = new Float64Array(n);
  for (let s = 0; s < samples; s++) {
    for (let j = 0; j < n; j++) {
      x[j] = rng.normal();
      sx[j] = fn(x[j] as number);
    }
    let num = 0;
    let den = 0;
    for (let i = 0; i < n; i++) {
      let ax = 0;
      let ps = 0;
      for (let j = 0; j < n; j++) {
        ax += (a[i * n + j] as number) * (x[j] as number);
        ps += (p[i * n + j] as number) * (sx[j] as number);
      }
      const lhs = fn(ax);
      num = Math.max(num, Math.abs(lhs - ps));
      den = Math.max(den, Math.abs(lhs));
    }
    worst = Math.max(worst, num / Math.max(den, 1e-300));
  }
  return worst;
}
