// Resource estimates of the metrics: time and peak memory from the shapes alone, before any work,
// so that `basis compare` and audits can say what a comparison will cost and refuse one that does
// not fit in memory.
//
// The model. Each metric's cost is a non-negative combination of the terms its algorithm has:
//   memory (bytes beyond the two inputs): 8·n(dx+dy) (centred / normalised copies, range bases,
//     memoised on the inputs), 8·(dx·dy + dx² + dy²) (cross-products, Gram matrices, SVD and
//     assignment work), 8·n² (the N x N kernels, distance and rank arrays of cka.rbf, grelu.cka,
//     rsa.spearman and knn.mutual), and a constant (MiB: JavaScript heap growth, engine workspaces);
//   time (CPU seconds on one core): n(dx+dy) (passes over the data), n(dx·dy + dx² + dy²) (products,
//     QR, SVD of the data), (dx+dy)³ (SVD and assignment of the d x d matrices), n²(dx+dy) (N x N
//     products and kernels), n² log2 n (sorting and ranking N² entries).
// Calibration (how COEFFS was made, 2026-12-07): `bench/cost-calibrate.ts` ran every metric alone in a
// fresh process (bench/cost-child.ts; a warm-up call first, for the JIT and the BLAS workspaces) on
// random inputs of four shapes — 2000 x 64/96, 2000 x 384/256, 4000 x 128/128, 3000 x 256/192 —
// measuring the CPU time of the call (one engine thread, BASIS_THREADS=1, so the load of the shared
// machine does not inflate it) and its peak memory (the kernel's VmHWM, reset through
// /proc/self/clear_refs once the inputs exist, minus the RSS before the call; glibc's mmap threshold
// fixed at 64 KiB so that RSS follows the live arrays), then fitted each metric's coefficients by
// non-negative least squares on relative error. Machine: 2 cores (AVX-512), native OpenBLAS engine,
// Node 20. The fit reproduces 79 of the 84 measured peaks within ±25% (all within 0.60–1.26×) and
// the CPU times within 0.31–1.30×; `compare` with all 21 metrics peaked at 1.07–1.83× below the
// estimate on the four shapes (the estimate counts per-matrix copies the metrics share as separate),
// and `cost.test.ts` checks peaks on two other shapes within 2×. At 20000 x 2048 (issue 16) all
// metrics are estimated at ~14 GiB (cka.rbf's N x N kernels alone ~11 GiB) and ~50 CPU minutes.
import { BasisError } from '@basis/tensor';
import type { MetricCost, ResolvedOptions } from './types.js';

/** Metrics whose work and memory grow with N² (N x N kernels, pairwise distances, ranks). */
export const N2_METRICS: ReadonlySet<string> = new Set([
  'cka.rbf',
  'grelu.cka',
  'rsa.spearman',
  'knn.mutual',
  // survey measures on row geometry (metrics/pairwise.ts): row blocks of 256 x N products for the
  // distances and cosine neighbours, N x N matrices for dcor (two) and imd (the Laplacian)
  'rsm.norm',
  'dcor',
  'knn.jaccard',
  'knn.second_order_cosine',
  'knn.rank',
  'knn.rank_jaccard',
  'stat.uniformity',
  'stat.intrinsic_dim',
  'imd',
]);

/**
 * Memory terms (bytes) of the model for a metric of the N² kind or not: n(dx+dy), dx·dy+dx²+dy²,
 * n², a constant MiB, and the 256-row blocks against all n rows of the blocked N² passes.
 */
export function bytesTerms(n: number, dx: number, dy: number, n2: boolean): number[] {
  return [8 * n * (dx + dy), n2 ? 0 : 8 * (dx * dy + dx * dx + dy * dy), n2 ? 8 * n * n : 0, 2 ** 20, n2 ? 8 * 256 * n : 0];
}

/** Time terms of the model (their coefficients are seconds per unit); the last, n³, is imd's eigendecomposition of its N x N Laplacian. */
export function secondsTerms(n: number, dx: number, dy: number, n2: boolean): number[] {
  const d = dx + dy;
  return n2 ? [n * d, 0, 0, n * n * d, n * n * Math.log2(Math.max(2, n)), n * n * n] : [n * d, n * (dx * dy + dx * dx + dy * dy), d * d * d, 0, 0, 0];
}

/** Fitted coefficients per metric: bytes per term of {@link bytesTerms}, seconds per term of {@link secondsTerms} (see the calibration note at the top of this file). */
const COEFFS: Readonly<Record<string, { bytes: readonly number[]; seconds: readonly number[] }>> = {
  'cka.linear': { bytes: [1.16, 2.17, 0, 0], seconds: [6.02e-8, 0, 3.30e-11, 0, 0] },
  'cka.linear.unbiased': { bytes: [0, 5.75, 0, 5.45], seconds: [6.83e-8, 0, 0, 0, 0] },
  'cka.rbf': { bytes: [1.57, 0, 3.33, 35.6], seconds: [1.83e-7, 0, 0, 0, 2.25e-8] },
  'procrustes.similarity': { bytes: [1.07, 1.30, 0, 0], seconds: [7.10e-8, 0, 0, 0, 0] },
  'procrustes.angular': { bytes: [0, 12.9, 0, 13.1], seconds: [1.07e-7, 0, 1.57e-10, 0, 0] },
  'procrustes.euclidean': { bytes: [1.13, 10.3, 0, 8.79], seconds: [1.24e-7, 0, 3.31e-10, 0, 0] },
  'permutation.similarity': { bytes: [0.992, 8.05, 0, 0], seconds: [9.49e-8, 0, 0, 0, 0] },
  'permutation.angular': { bytes: [1.89, 1.32, 0, 10.3], seconds: [1.30e-7, 0, 0, 0, 0] },
  'cca.mean_rho': { bytes: [2.93, 3.63, 0, 6.40], seconds: [2.09e-7, 0, 3.33e-10, 0, 0] },
  'cca.mean_rho2': { bytes: [3.74, 5.13, 0, 0], seconds: [1.79e-7, 0, 3.90e-10, 0, 0] },
  'svcca': { bytes: [3.30, 8.35, 0, 3.39], seconds: [2.43e-7, 0, 3.90e-10, 0, 0] },
  'pwcca': { bytes: [2.93, 2.98, 0, 9.87], seconds: [2.64e-7, 0, 1.43e-10, 0, 0] },
  'permcorr': { bytes: [1.06, 5.37, 0, 6.69], seconds: [7.83e-8, 0, 6.00e-11, 0, 0] },
  'grelu.procrustes': { bytes: [1.28, 0, 0, 5.99], seconds: [1.04e-7, 0, 1.19e-10, 0, 0] },
  'grelu.cka': { bytes: [1.37, 0, 1.82, 7.02], seconds: [1.01e-6, 0, 0, 1.08e-9, 1.12e-8] },
  'softmatch': { bytes: [0.864, 4.28, 0, 12.0], seconds: [1.01e-7, 0, 5.09e-10, 0, 0] },
  'linear.cv': { bytes: [3.49, 7.55, 0, 30.1], seconds: [8.58e-7, 0, 2.41e-9, 0, 0] },
  'procrustes.cv': { bytes: [1.18, 11.5, 0, 6.00], seconds: [1.38e-7, 0, 9.90e-10, 0, 0] },
  'permutation.cv': { bytes: [0.217, 8.95, 0, 12.1], seconds: [1.91e-7, 0, 1.19e-10, 0, 0] },
  'rsa.spearman': { bytes: [1.64, 0, 2.24, 43.9], seconds: [1.30e-7, 0, 0, 0, 3.04e-8] },
  'knn.mutual': { bytes: [3.56, 0, 2.21, 0.240], seconds: [2.04e-7, 0, 0, 0, 5.17e-9] },
  // survey measures of the alignment and subspace kind, calibrated the same way (2026-12-07,
  // 07:25-07:32 UTC, load average 24-57 from other jobs; CPU seconds): the fit reproduces every
  // measured peak within 0.72-1.18x and the CPU times within 0.43-1.28x, except corrmatch.soft,
  // whose small peaks (0.8-22 MB: the centred copies, freed at varying times) fit no model; it gets
  // one N x d copy on top of the fit, an upper bound
  // shape.partial_whitening refitted after its Gram-matrix route for layers with cond <= 100
  // (2026-12-07, 13:47-13:55 UTC, load 25-30; every peak within 0.98-1.01x, CPU times 0.60-1.21x)
  'shape.partial_whitening': { bytes: [3.91, 11.2, 0, 0, 0], seconds: [1.56e-7, 0, 3.91e-10, 0, 0, 0] },
  'cosine.aligned': { bytes: [0.764, 6.52, 0, 0, 0], seconds: [7.10e-8, 0, 8.63e-11, 0, 0, 0] },
  'maxmatch': { bytes: [2.21, 0, 0, 10.2, 0], seconds: [1.31e-7, 0, 0, 0, 0, 0] },
  'corrmatch.soft': { bytes: [1, 2.87, 0, 0.0662, 0], seconds: [3.14e-8, 0, 1.92e-10, 0, 0, 0] },
  'linreg.r2': { bytes: [1.61, 12.7, 0, 4.55, 0], seconds: [1.42e-7, 0, 6.53e-11, 0, 0, 0] },
  'eos': { bytes: [2.59, 4.88, 0, 0, 0], seconds: [1.32e-7, 0, 2.48e-10, 0, 0, 0] },
  'gulp': { bytes: [4.11, 8.12, 0, 13.5, 0], seconds: [2.71e-7, 0, 2.17e-10, 0, 0, 0] },
  // survey measures on row geometry, calibrated the same way (2026-12-07, 07:06-07:20 UTC, load
  // average 20-43 from other jobs; CPU seconds, so the load inflates them little): the fit
  // reproduces every measured peak within 0.61-1.24x and the CPU times within 0.48-1.25x
  'rsm.norm': { bytes: [2.62, 0, 0.233, 20.6, 0], seconds: [1.84e-7, 0, 0, 0, 2.31e-9, 0] },
  'dcor': { bytes: [6.00, 0, 1.72, 0, 0], seconds: [1.62e-7, 0, 0, 0, 6.69e-9, 0] },
  // riemann refitted with a fifth shape, 1000 x 768/512, where N < dx + dy takes the N x N Gram
  // route (2026-12-07, 13:44-13:47 UTC, load 25-30): peaks within 0.96-1.06x, CPU times 0.51-1.20x;
  // the earlier fit (QR-route shapes only) estimated 2000 x 1024/1024 at ~7.7 s, now ~2.0 s (measured ~1.8)
  'riemann': { bytes: [3.54, 5.49, 0, 20.0, 0], seconds: [2.17e-7, 0, 1.23e-10, 0, 0, 0] },
  'knn.jaccard': { bytes: [5.45, 0, 0.00910, 0, 0], seconds: [9.07e-8, 0, 0, 0, 6.79e-9, 0] },
  'knn.second_order_cosine': { bytes: [1.64, 0, 0.236, 32.4, 0], seconds: [2.72e-7, 0, 0, 0, 4.50e-9, 0] },
  'knn.rank': { bytes: [3.42, 0, 0, 32.1, 0.202], seconds: [1.84e-7, 0, 0, 0, 4.77e-9, 0] },
  'knn.rank_jaccard': { bytes: [0.794, 0, 0, 33.7, 3.78], seconds: [1.37e-7, 0, 0, 0, 5.39e-9, 0] },
  // the two statistics of the mean row measured ~0 MB beyond the inputs (one d-vector); 1 x n(dx+dy)
  // is the N x d copy made for inputs of extreme scale (prep.ts prescaled), so the estimate stays an upper bound
  'stat.magnitude': { bytes: [1, 0, 0, 0.0964], seconds: [2.74e-8, 0, 0, 0, 0] },
  'stat.concentricity': { bytes: [1, 0, 0, 0.0954], seconds: [3.78e-8, 0, 0, 0, 0] },
  'stat.uniformity': { bytes: [5.73, 0, 0.0621, 0, 0], seconds: [2.18e-7, 0, 0, 0, 5.06e-9, 0] },
  'stat.intrinsic_dim': { bytes: [1.02, 0, 0.0331, 36.9, 0], seconds: [1.34e-7, 0, 0, 4.83e-11, 4.15e-9, 0] },
  'imd': { bytes: [5.03, 0, 1.59, 8.80, 0], seconds: [5.36e-7, 0, 0, 0, 0, 2.68e-10] },
};

function checkShape(n: number, dx: number, dy: number, what: string): void {
  for (const [k, v] of [['n', n], ['dx', dx], ['dy', dy]] as const) {
    if (!Number.isSafeInteger(v) || v < 1) throw new BasisError('INVALID_ARGUMENT', `${what}: ${k} must be a positive integer, got ${String(v)}`);
  }
}

/**
 * The cost model of one metric: estimated seconds and peak working memory (bytes beyond the two
 * inputs) of computing it once on N x dx and N x dy inputs, from the calibrated terms above.
 * Cross-validated metrics scale with their number of folds.
 *
 * @example
 * ```ts
 * costModel('cka.rbf')!(20000, 2048, 2048, { bandwidth: 0.5 }); // { seconds: ~1.4e2, bytes: ~1.2e10 }
 * ```
 */
export function costModel(id: string): ((n: number, dx: number, dy: number, options: ResolvedOptions) => MetricCost) | undefined {
  const c = COEFFS[id];
  if (c === undefined) return undefined;
  const n2 = N2_METRICS.has(id);
  return (n, dx, dy, options) => {
    checkShape(n, dx, dy, `${id} cost`);
    const folds = typeof options['folds'] === 'number' ? (options['folds'] as number) / 5 : 1;
    const dot = (coef: readonly number[], terms: number[]): number => terms.reduce((s, t, j) => s + t * (coef[j] ?? 0), 0);
    return { seconds: folds * dot(c.seconds, secondsTerms(n, dx, dy, n2)), bytes: dot(c.bytes, bytesTerms(n, dx, dy, n2)) };
  };
}
