import { BasisError, Matrix, asMatrix, determinant, matmul, solve, type MatrixLike } from '@basis/tensor';
import { applyAxisMap, assertFiniteData, toTensor, type AxisMap, type Tensor, type TensorLike } from './tensor.js';

/**
 * What a group element is, from the narrowest description that fits how it was built:
 * monomial kinds are stored as a permutation and a scale vector, the others as a dense matrix.
 */
export type ElementKind =
  | 'permutation'
  | 'positive-diagonal'
  | 'sign-diagonal'
  | 'signed-permutation'
  | 'positive-monomial'
  | 'monomial'
  | 'orthogonal'
  | 'invertible';

/** JSON form of a {@link GroupElement} (see {@link GroupElement.toJSON}). */
export type GroupElementJSON =
  | { kind: ElementKind; n: number; src: number[]; scale: number[] }
  | { kind: ElementKind; n: number; matrix: number[][] };

const MONOMIAL_KINDS: ReadonlySet<ElementKind> = new Set([
  'permutation',
  'positive-diagonal',
  'sign-diagonal',
  'signed-permutation',
  'positive-monomial',
  'monomial',
]);

function checkPerm(src: ArrayLike<number>, what: string): Int32Array {
  const n = src.length;
  const seen = new Uint8Array(n);
  const out = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const j = src[i] as number;
    if (!Number.isInteger(j) || j < 0 || j >= n || seen[j] === 1) {
      throw new BasisError(
        'INVALID_ARGUMENT',
        `${what} is not a permutation of 0..${n - 1}: entry ${i} is ${j}${Number.isInteger(j) && j >= 0 && j < n ? ' (repeated)' : ''}`,
      );
    }
    seen[j] = 1;
    out[i] = j;
  }
  return out;
}

/** Narrowest monomial kind describing `scale`. */
function monomialKind(src: Int32Array, scale: Float64Array): ElementKind {
  let identityPerm = true;
  for (let i = 0; i < src.length; i++) if (src[i] !== i) identityPerm = false;
  let ones = true;
  let signs = true;
  let positive = true;
  for (const s of scale) {
    if (s !== 1) ones = false;
    if (s !== 1 && s !== -1) signs = false;
    if (!(s > 0)) positive = false;
  }
  if (ones) return 'permutation';
  if (identityPerm && positive) return 'positive-diagonal';
  if (identityPerm && signs) return 'sign-diagonal';
  if (signs) return 'signed-permutation';
  if (positive) return 'positive-monomial';
  return 'monomial';
}

/**
 * An element of a matrix group acting on n units, as a value: permutations, positive or sign
 * diagonals, signed permutations and monomials are stored sparsely (`(A x)_i = scale[i] · x[src[i]]`,
 * i.e. `A[i, src[i]] = scale[i]`: new unit i is old unit `src[i]`, scaled), orthogonal and general
 * invertible matrices densely. Elements are immutable; every operation returns a new element.
 *
 * @example
 * ```ts
 * import { GroupElement } from '@basis/symmetry';
 * const P = GroupElement.permutation([2, 0, 1]);
 * const D = GroupElement.diagonal([1, 2, 0.5]);
 * const A = P.compose(D);                 // P·D, an element of G_ReLU
 * A.inverse().compose(A).isIdentity();    // true
 * A.applyToAxis(weight, 0);               // transforms the rows (output units) of a weight
 * ```
 */
export class GroupElement {
  /** Number of units the element acts on. */
  readonly n: number;
  /** The narrowest kind that describes the element. */
  readonly kind: ElementKind;
  /** Monomial form (`src`, `scale`) or undefined for dense elements. */
  readonly src: Int32Array | undefined;
  readonly scale: Float64Array | undefined;
  /** Dense row-major matrix, or undefined for monomial elements. */
  readonly dense: Float64Array | undefined;

  private constructor(n: number, kind: ElementKind, src?: Int32Array, scale?: Float64Array, dense?: Float64Array) {
    this.n = n;
    this.kind = kind;
    this.src = src;
    this.scale = scale;
    this.dense = dense;
  }

  /** The identity on n units. */
  static identity(n: number): GroupElement {
    if (!Number.isInteger(n) || n < 1) throw new BasisError('INVALID_ARGUMENT', `identity: n must be a positive integer, got ${n}`);
    const src = new Int32Array(n);
    for (let i = 0; i < n; i++) src[i] = i;
    return new GroupElement(n, 'permutation', src, new Float64Array(n).fill(1));
  }

  /** The permutation matrix with `P[i, src[i]] = 1`: unit i of the result is unit `src[i]` of the input. */
  static permutation(src: ArrayLike<number>): GroupElement {
    const p = checkPerm(src, 'permutation');
    if (p.length === 0) throw new BasisError('TOO_SMALL', 'permutation: needs at least one unit');
    return new GroupElement(p.length, 'permutation', p, new Float64Array(p.length).fill(1));
  }

  /** The diagonal matrix `diag(scale)` (non-zero, finite entries). */
  static diagonal(scale: ArrayLike<number>): GroupElement {
    const src = new Int32Array(scale.length);
    for (let i = 0; i < src.length; i++) src[i] = i;
    return GroupElement.monomial(src, scale);
  }

  /** The monomial matrix `A[i, src[i]] = scale[i]` (a permutation times a non-singular diagonal). */
  static monomial(src: ArrayLike<number>, scale: ArrayLike<number>): GroupElement {
    const p = checkPerm(src, 'monomial permutation');
    if (p.length === 0) throw new BasisError('TOO_SMALL', 'monomial: needs at least one unit');
    if (scale.length !== p.length) {
      throw new BasisError('SHAPE_MISMATCH', `monomial: permutation has ${p.length} entries but scale has ${scale.length}`);
    }
    const s = Float64Array.from(scale);
    assertFiniteData(s, 'monomial scale');
    for (let i = 0; i < s.length; i++) {
      if (s[i] === 0) throw new BasisError('RANK_DEFICIENT', `monomial: scale[${i}] is 0, so the matrix is not invertible`);
    }
    return new GroupElement(p.length, monomialKind(p, s), p, s);
  }

  /** A dense invertible matrix; `kind` is 'orthogonal' when `AᵀA = I` to `orthogonalTol` (1e-10). */
  static dense(A: MatrixLike, opts: { orthogonalTol?: number } = {}): GroupElement {
    const m = asMatrix(A);
    if (m.rows !== m.cols) throw new BasisError('SHAPE_MISMATCH', `group element must be square, got ${m.rows} x ${m.cols}`);
    if (m.rows === 0) throw new BasisError('TOO_SMALL', 'group element needs at least one unit');
    assertFiniteData(m.data, 'group element matrix');
    const n = m.rows;
    const det = determinant(m);
    if (!(Math.abs(det) > 0) || !Number.isFinite(det)) {
      throw new BasisError('RANK_DEFICIENT', `group element matrix is singular (det = ${det}); group elements must be invertible`);
    }
    const tol = opts.orthogonalTol ?? 1e-10;
    const kind: ElementKind = orthogonalityDefect(m.data, n) <= tol ? 'orthogonal' : 'invertible';
    return new GroupElement(n, kind, undefined, undefined, Float64Array.from(m.data));
  }

  /** Parses {@link GroupElement.toJSON} output. */
  static fromJSON(json: GroupElementJSON): GroupElement {
    if (json === null || typeof json !== 'object') throw new BasisError('CONFIG_INVALID', 'group element JSON must be an object');
    if ('src' in json && Array.isArray(json.src) && Array.isArray(json.scale)) return GroupElement.monomial(json.src, json.scale);
    if ('matrix' in json && Array.isArray(json.matrix)) return GroupElement.dense(json.matrix);
    throw new BasisError('CONFIG_INVALID', 'group element JSON needs either { src, scale } or { matrix }');
  }

  /** True for elements stored as a permutation and a scale vector. */
  get isMonomial(): boolean {
    return this.src !== undefined;
  }

  /** The element as a dense n x n matrix. */
  toMatrix(): Matrix {
    const n = this.n;
    if (this.dense !== undefined) return new Matrix(n, n, Float64Array.from(this.dense));
    const m = new Matrix(n, n);
    for (let i = 0; i < n; i++) m.data[i * n + (this.src![i] as number)] = this.scale![i] as number;
    return m;
  }

  /** The matrix product `this · other` (apply `other` first). */
  compose(other: GroupElement): GroupElement {
    this.checkSize(other, 'compose');
    if (this.isMonomial && other.isMonomial) {
      const n = this.n;
      const src = new Int32Array(n);
      const scale = new Float64Array(n);
      for (let i = 0; i < n; i++) {
        const j = this.src![i] as number;
        src[i] = other.src![j] as number;
        scale[i] = (this.scale![i] as number) * (other.scale![j] as number);
      }
      return new GroupElement(n, monomialKind(src, scale), src, scale);
    }
    return GroupElement.denseUnchecked(matmul(this.toMatrix(), other.toMatrix()));
  }

  /** The inverse element. */
  inverse(): GroupElement {
    if (this.isMonomial) return this.flipMonomial((s) => 1 / s);
    if (this.kind === 'orthogonal') return this.transpose();
    return GroupElement.denseUnchecked(solve(this.toMatrix(), Matrix.identity(this.n)));
  }

  /** The transpose (for monomials: the same permutation pattern, transposed). */
  transpose(): GroupElement {
    const n = this.n;
    if (this.isMonomial) return this.flipMonomial((s) => s);
    const m = this.dense!;
    const t = new Float64Array(n * n);
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) t[j * n + i] = m[i * n + j] as number;
    return new GroupElement(n, this.kind, undefined, undefined, t);
  }

  /** Aᵀ with each entry mapped by `f` (identity: transpose; reciprocal: inverse). */
  private flipMonomial(f: (s: number) => number): GroupElement {
    const n = this.n;
    const src = new Int32Array(n);
    const scale = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      const j = this.src![i] as number;
      src[j] = i;
      scale[j] = f(this.scale![i] as number);
    }
    return new GroupElement(n, monomialKind(src, scale), src, scale);
  }

  /**
   * Applies `f` to every entry (the entrywise maps φ(A) = |A| or A^∘d of Table 1). For monomials
   * `f(0)` must be 0 so the pattern is kept; dense elements are mapped entry by entry.
   */
  mapEntries(f: (x: number) => number): GroupElement {
    if (this.isMonomial) {
      const z = f(0);
      if (z !== 0) throw new BasisError('INVALID_ARGUMENT', `mapEntries: f(0) = ${z}, so a monomial element would not stay monomial`);
      const scale = this.scale!.map(f);
      return GroupElement.monomial(this.src!, scale);
    }
    return GroupElement.dense(mapMatrix(this.toMatrix(), f));
  }

  /** The permutation part of a monomial element (its scale set to 1); INVALID_ARGUMENT for dense ones. */
  permutationPart(): GroupElement {
    if (!this.isMonomial) {
      throw new BasisError('INVALID_ARGUMENT', `a ${this.kind} element has no permutation part; only monomial elements do`);
    }
    return new GroupElement(this.n, 'permutation', this.src!.slice(), new Float64Array(this.n).fill(1));
  }

  /** True when the element equals the identity to `tol` (max-abs). */
  isIdentity(tol = 0): boolean {
    return this.distance(GroupElement.identity(this.n)) <= tol;
  }

  /** `max |A - B|` entrywise. */
  distance(other: GroupElement): number {
    this.checkSize(other, 'distance');
    const a = this.toMatrix().data;
    const b = other.toMatrix().data;
    let d = 0;
    for (let k = 0; k < a.length; k++) d = Math.max(d, Math.abs((a[k] as number) - (b[k] as number)));
    return d;
  }

  /**
   * Applies `A ⊗ I_repeat` along `axis` of a tensor: `out[..., i, ...] = Σ_j A[i, j] t[..., j, ...]`
   * (rows of a weight for axis 0, columns for axis 1, conv output channels for axis 0 of an OIHW
   * kernel, features of an `N x d` activation matrix for axis 1, each block of `repeat`
   * consecutive entries moved as one unit). Use `transpose()` first to multiply on the right.
   */
  applyToAxis(t: TensorLike, axis: number, repeat = 1): Tensor {
    if (!Number.isInteger(axis) || axis < 0) throw new BasisError('INVALID_ARGUMENT', `axis must be a non-negative integer, got ${axis}`);
    if (!Number.isInteger(repeat) || repeat < 1) throw new BasisError('INVALID_ARGUMENT', `repeat must be a positive integer, got ${repeat}`);
    return applyAxisMap(toTensor(t, 'tensor'), axis, this.axisMap(), repeat);
  }

  /** The sparse or dense kernel form used by {@link applyAxisMap}. */
  axisMap(): AxisMap {
    if (this.isMonomial) return { type: 'monomial', src: this.src!, scale: this.scale! };
    return { type: 'dense', n: this.n, m: this.dense! };
  }

  /** Serialisable form: `{ kind, n, src, scale }` or `{ kind, n, matrix }`. */
  toJSON(): GroupElementJSON {
    if (this.isMonomial) return { kind: this.kind, n: this.n, src: Array.from(this.src!), scale: Array.from(this.scale!) };
    return { kind: this.kind, n: this.n, matrix: this.toMatrix().toArray() };
  }

  private static denseUnchecked(m: Matrix): GroupElement {
    const kind: ElementKind = orthogonalityDefect(m.data, m.rows) <= 1e-10 ? 'orthogonal' : 'invertible';
    return new GroupElement(m.rows, kind, undefined, undefined, m.data);
  }

  private checkSize(other: GroupElement, op: string): void {
    if (!(other instanceof GroupElement)) throw new BasisError('INVALID_ARGUMENT', `${op}: expected a GroupElement`);
    if (other.n !== this.n) throw new BasisError('SHAPE_MISMATCH', `${op}: elements act on ${this.n} and ${other.n} units; sizes must match`);
  }
}

/** True when `kind` is stored in monomial form. */
export function isMonomialKind(kind: ElementKind): boolean {
  return MONOMIAL_KINDS.has(kind);
}

function mapMatrix(m: Matrix, f: (x: number) => number): Matrix {
  return new Matrix(m.rows, m.cols, m.data.map(f));
}

/** `max |AᵀA - I|` of a row-major n x n matrix. */
export function orthogonalityDefect(a: Float64Array, n: number): number {
  let d = 0;
  for (let i = 0; i < n; i++) {
    for (let j = i; j < n; j++) {
      let s = 0;
      for (let k = 0; k < n; k++) s += (a[k * n + i] as number) * (a[k * n + j] as number);
      d = Math.max(d, Math.abs(s - (i === j ? 1 : 0)));
    }
  }
  return d;
}
