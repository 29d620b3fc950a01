import type { Matrix } from '@basis/tensor';

/**
 * Transformations of one argument a metric can be invariant to (seeds-spec M10).
 * - `rotation`: Y -> Y Q, Q orthogonal
 * - `permutation`: Y -> Y P, P a permutation of units
 * - `isotropic-scale`: Y -> c Y, c > 0
 * - `unit-positive-scale`: Y -> Y D, D positive diagonal
 * - `translation`: Y -> Y + 1 v^T
 * - `invertible-linear`: Y -> Y A, A invertible
 */
export type Invariance =
  | 'rotation'
  | 'permutation'
  | 'isotropic-scale'
  | 'unit-positive-scale'
  | 'translation'
  | 'invertible-linear';

/** All invariance kinds, in a fixed order. */
export const INVARIANCES: readonly Invariance[] = [
  'rotation',
  'permutation',
  'isotropic-scale',
  'unit-positive-scale',
  'translation',
  'invertible-linear',
];

/**
 * Families of the survey taxonomy of representational similarity measures (Klabunde et al.,
 * ACM Computing Surveys): canonical correlation analysis, alignment (a fitted map or matching
 * between units), representational similarity matrices (RSM, including CKA), neighbourhoods
 * (k-nearest-neighbour sets), topology, and descriptive statistics of each representation.
 */
export type MetricFamily = 'cca' | 'alignment' | 'rsm' | 'neighbourhood' | 'topology' | 'statistic';

/** All metric families, in the survey's order. */
export const FAMILIES: readonly MetricFamily[] = ['cca', 'alignment', 'rsm', 'neighbourhood', 'topology', 'statistic'];

/**
 * How a metric's work grows with the inputs (N rows, d = dx + dy units):
 * - `N·d²`: feature-space products, factorisations and fits: time ~ N d² + d³, memory ~ N d + d²;
 * - `N²·d`: N x N kernels, distance or rank matrices: time ~ N² d (or N² log N), memory ~ N².
 */
export type CostClass = 'N·d²' | 'N²·d';

/** All cost classes. */
export const COST_CLASSES: readonly CostClass[] = ['N·d²', 'N²·d'];

/** One option of a metric: its type, default and allowed range. */
export interface MetricOption {
  readonly name: string;
  readonly type: 'number' | 'integer' | 'boolean' | 'number[]';
  readonly default: number | boolean | readonly number[];
  readonly description: string;
  /** Inclusive lower bound for numbers (each entry for number[]). */
  readonly min?: number;
  /** Strict lower bound (value must exceed it). */
  readonly exclusiveMin?: number;
  /** Inclusive upper bound for numbers (each entry for number[]). */
  readonly max?: number;
}

/** Options after defaults are filled in and values validated. */
export type ResolvedOptions = Readonly<Record<string, number | boolean | readonly number[]>>;

/** A registered metric: its identity, direction, range, invariances and kernel. */
export interface MetricDefinition {
  /** Stable id, as in the fixtures README (e.g. `cka.linear`). */
  readonly id: string;
  /** One-line description. */
  readonly title: string;
  /** Family of the survey taxonomy (see {@link MetricFamily}). */
  readonly family: MetricFamily;
  /** How time and memory grow with the inputs (see {@link CostClass}). */
  readonly costClass: CostClass;
  /** Other names that resolve to this metric (e.g. `nbs` for `procrustes.similarity`). */
  readonly aliases?: readonly string[];
  /** `similarity` (larger = more similar) or `distance` (smaller = more similar). */
  readonly kind: 'similarity' | 'distance';
  /** Closed range of values; `Infinity` for unbounded. */
  readonly range: readonly [number, number];
  /** Transformations of either argument that leave the value unchanged (at the default options). */
  readonly invariances: readonly Invariance[];
  /**
   * Invariances that hold at particular option values, in place of `invariances` (e.g.
   * `shape.partial_whitening` is scale-invariant only for alpha in {0, 1}); tested both ways
   * like `invariances`.
   */
  readonly invariancesAt?: readonly { readonly options: Readonly<Record<string, number | boolean>>; readonly invariances: readonly Invariance[] }[];
  /** Whether X and Y may have different widths, and how. */
  readonly widths: 'any' | 'zero-padding' | 'rectangular-assignment';
  /** Fewest rows (inputs) the metric is defined for. */
  readonly minRows: number;
  /** Whether metric(X, Y) = metric(Y, X). */
  readonly symmetric: boolean;
  /** The options schema (empty when the metric has none). */
  readonly options?: readonly MetricOption[];
  /** The kernel; inputs and options are validated by the caller ({@link compare} / {@link metric}). */
  readonly compute: (X: Matrix, Y: Matrix, options: ResolvedOptions) => number;
  /**
   * Per-layer work the metric memoises on its inputs (centring, norms, range bases), run on one
   * matrix. Audits call it once per layer, so that worker threads share that work instead of
   * each redoing it; it only warms caches and never changes a value.
   */
  readonly prepare?: (X: Matrix, options: ResolvedOptions) => void;
  /**
   * How {@link metric} proves the inputs finite: by default from their column sums (one native
   * `dgemv` read of each); `moments` from the column-moment pass (`columnMoments`), computed first, for a
   * metric that needs the column moments of both inputs anyway (one read of each fewer).
   */
  readonly screen?: 'moments';
  /** Cross-validated metrics: the per-fold scores whose mean is the value. */
  readonly foldScores?: (X: Matrix, Y: Matrix, options: ResolvedOptions) => number[];
  /**
   * Resource estimate of one computation on N x dx and N x dy inputs, from the shapes alone
   * (registered metrics get a model calibrated on measurements, see `cost.ts`).
   */
  readonly cost?: (n: number, dx: number, dy: number, options: ResolvedOptions) => MetricCost;
}

/** Estimated cost of one metric computation: seconds and peak working memory beyond the inputs. */
export interface MetricCost {
  /** Estimated wall-clock seconds (calibrated on a 2-core machine under load; an idle one is faster). */
  seconds: number;
  /** Estimated peak bytes allocated beyond the two input matrices. */
  bytes: number;
}

/** One metric value with what produced it. */
export interface MetricResult {
  id: string;
  value: number;
  kind: 'similarity' | 'distance';
  /** Options the value was computed with (defaults filled in). */
  options: ResolvedOptions;
  /**
   * Arithmetic used for the value. The compute engine (provider, library, core type, threads) is
   * recorded once per result set rather than per value — `LayerAudit.engine` for audits,
   * `engine` beside the metrics in `basis compare --json`; call `engineInfo()` from
   * `@basis/tensor` when storing single values.
   */
  precision: 'float64';
  /** Cross-validated metrics: the fold scores, their mean (= value) and sample standard deviation. */
  folds?: { scores: number[]; mean: number; std: number };
}
