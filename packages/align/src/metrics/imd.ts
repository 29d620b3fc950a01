// Multi-scale intrinsic distance (Tsitsulin et al. 2020, msid defaults) with exact heat-kernel
// traces: the spectrum of each layer's normalised kNN-graph Laplacian comes from one symmetric
// eigendecomposition (the engine's eigh, values only) instead of msid's stochastic Lanczos
// quadrature, so the value is deterministic. The spectrum is memoised per layer and k: an audit
// decomposes each layer once.
import { BasisError, Matrix, eigh } from '@basis/tensor';
import { cached } from '../prep.js';
import type { MetricDefinition, ResolvedOptions } from '../types.js';
import { euclideanNeighbours, rowGeometry } from './pairwise.js';

/** Default neighbours per node of the imd kNN graph (msid's default). */
export const IMD_K = 5;

/** The 256 heat-kernel times `numpy.logspace(-1, 1, 256)`. */
const TIMES: Float64Array = (() => {
  const t = new Float64Array(256);
  const step = 2 / 255;
  for (let m = 0; m < 256; m++) t[m] = 10 ** (m === 255 ? 1 : m * step - 1);
  return t;
})();

interface GraphSpectrum {
  /** Eigenvalues of the normalised Laplacian, ascending. */
  values: Float64Array;
  /** The symmetrised kNN graph as sorted adjacency lists: offsets (N + 1) and neighbours. */
  offsets: Float64Array;
  adjacency: Float64Array;
}

/**
 * The kNN graph of the rows (`N(i)` = the k nearest other rows by squared Euclidean distance,
 * ties to the smaller index; an edge when j is in N(i) or i in N(j)) and the spectrum of its
 * normalised Laplacian `I - Deg^-1/2 A Deg^-1/2`.
 */
function graphSpectrum(X: Matrix, k: number): GraphSpectrum {
  return cached(X, `imd:${k}`, () => {
    const n = X.rows;
    const { idx } = euclideanNeighbours(rowGeometry(X), k);
    const sets: Set<number>[] = Array.from({ length: n }, () => new Set<number>());
    for (let i = 0; i < n; i++) {
      for (let t = 0; t < k; t++) {
        const j = idx[i * k + t] as number;
        (sets[i] as Set<number>).add(j);
        (sets[j] as Set<number>).add(i);
      }
    }
    const offsets = new Float64Array(n + 1);
    for (let i = 0; i < n; i++) offsets[i + 1] = (offsets[i] as number) + (sets[i] as Set<number>).size;
    const adjacency = new Float64Array(offsets[n] as number);
    for (let i = 0; i < n; i++) adjacency.set([...(sets[i] as Set<number>)].sort((a, b) => a - b), offsets[i] as number);
    const L = new Matrix(n, n);
    const l = L.data;
    const inv = new Float64Array(n);
    for (let i = 0; i < n; i++) inv[i] = 1 / Math.sqrt((offsets[i + 1] as number) - (offsets[i] as number));
    for (let i = 0; i < n; i++) {
      l[i * n + i] = 1;
      for (let q = offsets[i] as number; q < (offsets[i + 1] as number); q++) {
        const j = adjacency[q] as number;
        l[i * n + j] = -(inv[i] as number) * (inv[j] as number);
      }
    }
    const values = eigh(L, { vectors: false }).values.reverse();
    return { values, offsets, adjacency };
  });
}

function sameGraph(a: GraphSpectrum, b: GraphSpectrum): boolean {
  if (a.adjacency.length !== b.adjacency.length) return false;
  for (let i = 0; i < a.offsets.length; i++) if (a.offsets[i] !== b.offsets[i]) return false;
  for (let i = 0; i < a.adjacency.length; i++) if (a.adjacency[i] !== b.adjacency[i]) return false;
  return true;
}

/**
 * IMD: `max_m exp(-2 (t_m + 1/t_m)) |h_X(t_m) - h_Y(t_m)|` with the heat-kernel traces
 * `h(t) = 10^6 (1/N) sum_i exp(-t lambda_i)` at the 256 times `logspace(-1, 1, 256)`; exactly 0
 * when the two kNN graphs coincide.
 */
export function imdKernel(X: Matrix, Y: Matrix, o: ResolvedOptions): number {
  const k = o['k'] as number;
  const n = X.rows;
  if (n < k + 1) throw new BasisError('TOO_SMALL', `imd with k = ${k} needs at least ${k + 1} rows (inputs), got ${n}; lower k or add inputs`);
  const a = graphSpectrum(X, k);
  const b = graphSpectrum(Y, k);
  if (sameGraph(a, b)) return 0;
  let best = 0;
  for (let m = 0; m < TIMES.length; m++) {
    const t = TIMES[m] as number;
    let s = 0;
    // both spectra ascending: paired terms cancel where the spectra agree
    for (let i = 0; i < n; i++) s += Math.exp(-t * (a.values[i] as number)) - Math.exp(-t * (b.values[i] as number));
    const v = Math.exp(-2 * (t + 1 / t)) * Math.abs((1e6 / n) * s);
    if (v > best) best = v;
  }
  return best;
}

export const imd: MetricDefinition = {
  id: 'imd',
  family: 'topology',
  costClass: 'N²·d',
  title: 'Multi-scale intrinsic distance of the kNN-graph heat-kernel traces (exact spectra)',
  kind: 'distance',
  range: [0, Infinity],
  invariances: ['rotation', 'permutation', 'isotropic-scale', 'translation'],
  widths: 'any',
  minRows: 3,
  symmetric: true,
  options: [{ name: 'k', type: 'integer', default: IMD_K, min: 1, description: 'neighbours per node of the kNN graph (Euclidean); needs N >= k + 1' }],
  compute: imdKernel,
  prepare: (X, o) => {
    if (X.rows >= (o['k'] as number) + 1) graphSpectrum(X, o['k'] as number);
  },
};
