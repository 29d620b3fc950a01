// Synthetic datasets: Gaussian mixtures, teacher-network data, modular addition. All seeded.
import { BasisError, Matrix, shuffle, type Rng } from '@basis/tensor';
import type { ClassificationDataset, DataSplit, RegressionDataset, SeedLike } from './types.js';
import { checkInt, checkNumber, checkOptions, describe, isList, toRng } from './validate.js';

/**
 * Options of {@link gaussianMixture}.
 *
 * @example
 * ```ts
 * gaussianMixture({ n: 600, numClasses: 3, dim: 5, separation: 2, std: 1, weights: [1, 1, 2], seed: 0 } satisfies GaussianMixtureOptions);
 * ```
 */
export interface GaussianMixtureOptions {
  /** Number of examples. */
  n: number;
  /** Number of components (= classes), at least 2. */
  numClasses: number;
  /** Input dimension. */
  dim: number;
  /** Distance of every component mean from the origin (default 3). */
  separation?: number;
  /** Isotropic standard deviation of every component (default 1). */
  std?: number;
  /** Relative class weights (default equal); the counts are apportioned exactly. */
  weights?: readonly number[];
  /** Seed of the means, the samples and the order (default 0). */
  seed?: SeedLike;
}

function apportionWeights(n: number, weights: readonly number[]): number[] {
  const sum = weights.reduce((a, b) => a + b, 0);
  const exact = weights.map((w) => (n * w) / sum);
  const out = exact.map(Math.floor);
  let used = out.reduce((a, b) => a + b, 0);
  const order = exact.map((e, k) => ({ k, r: e - Math.floor(e) })).sort((a, b) => b.r - a.r || a.k - b.k);
  for (let j = 0; used < n; j++, used++) out[order[j % order.length]!.k]!++;
  return out;
}

/**
 * A mixture of isotropic Gaussians, one per class: the mean of class k is a random direction
 * (seeded) scaled to length `separation`, and each example is `mean[label] + std * z`. Class
 * counts follow `weights` exactly (largest remainder); the order is shuffled. The means are in
 * `meta.means` (one array per class).
 *
 * @example
 * ```ts
 * const ds = gaussianMixture({ n: 1000, numClasses: 3, dim: 2, separation: 4, seed: 0 });
 * ds.shape; // [2]
 * ```
 */
export function gaussianMixture(opts: GaussianMixtureOptions): ClassificationDataset {
  const fn = 'gaussianMixture';
  checkOptions(opts, ['n', 'numClasses', 'dim', 'separation', 'std', 'weights', 'seed'], fn);
  if (opts === undefined) throw new BasisError('CONFIG_INVALID', `${fn}: pass { n, numClasses, dim }`);
  const n = checkInt(opts.n, `${fn}: n`, 1);
  const k = checkInt(opts.numClasses, `${fn}: numClasses`, 2);
  const dim = checkInt(opts.dim, `${fn}: dim`, 1);
  const sep = checkNumber(opts.separation ?? 3, `${fn}: separation`, { min: 0 });
  const std = checkNumber(opts.std ?? 1, `${fn}: std`, { min: 0 });
  if (n < k) throw new BasisError('TOO_SMALL', `${fn}: n = ${n} is fewer than numClasses = ${k}; every class needs an example`);
  const weights = opts.weights ?? Array.from({ length: k }, () => 1);
  if (!isList(weights) || weights.length !== k) throw new BasisError('SHAPE_MISMATCH', `${fn}: weights must list ${k} numbers, got ${describe(opts.weights)}`);
  weights.forEach((w, i) => checkNumber(w, `${fn}: weights[${i}]`, { min: 0, minExclusive: true }));
  const rng = toRng(opts.seed);
  const meanRng = rng.fork('means');
  const means: number[][] = [];
  for (let c = 0; c < k; c++) {
    let v: number[];
    let norm: number;
    do {
      v = Array.from({ length: dim }, () => meanRng.normal());
      norm = Math.sqrt(v.reduce((a, b) => a + b * b, 0));
    } while (norm === 0);
    means.push(v.map((x) => (sep * x) / norm));
  }
  const counts = apportionWeights(n, weights);
  const labels = new Int32Array(n);
  for (let c = 0, o = 0; c < k; c++) for (let j = 0; j < counts[c]!; j++) labels[o++] = c;
  shuffle(labels, rng.fork('order'));
  const x = new Float32Array(n * dim);
  const noise = rng.fork('samples');
  for (let i = 0; i < n; i++) {
    const m = means[labels[i]!]!;
    for (let d = 0; d < dim; d++) x[i * dim + d] = m[d]! + std * noise.normal();
  }
  const sourceIndex = Int32Array.from({ length: n }, (_, i) => i);
  return {
    kind: 'classification',
    name: 'gaussian-mixture',
    source: 'synthetic:gaussian-mixture',
    n,
    x,
    shape: [dim],
    labels,
    numClasses: k,
    classNames: Array.from({ length: k }, (_, c) => String(c)),
    normalization: { kind: 'none' },
    sourceIndex,
    meta: { means, separation: sep, std, weights: [...weights] },
  };
}

/**
 * Activation functions of a teacher network.
 *
 * @example
 * ```ts
 * createTeacherMlp({ inputDim: 4, activation: 'tanh' satisfies TeacherActivation });
 * ```
 */
export type TeacherActivation = 'relu' | 'tanh' | 'sigmoid' | 'identity';

/**
 * One dense layer of a teacher: `y = W x + b`, `W` of shape `out x in` (PyTorch layout).
 *
 * @example
 * ```ts
 * const first: TeacherLayer = teacher.layers[0]; // first.name === 'layers.0'
 * ```
 */
export interface TeacherLayer {
  /** PyTorch-style prefix, `layers.0`, `layers.1`, ... (weights are `layers.i.weight`). */
  readonly name: string;
  readonly weight: Matrix;
  readonly bias: Float64Array;
}

/**
 * A random MLP "teacher" with seeded weights, used to label synthetic inputs. Hidden layers
 * apply `activation`; the last layer is linear.
 *
 * @example
 * ```ts
 * const t = createTeacherMlp({ inputDim: 10, hidden: [32], outputDim: 3, seed: 0 });
 * t.layers[0].weight.shape; // [32, 10]
 * ```
 */
export interface TeacherMlp {
  readonly inputDim: number;
  readonly hidden: readonly number[];
  readonly outputDim: number;
  readonly activation: TeacherActivation;
  readonly layers: readonly TeacherLayer[];
}

/**
 * Options of {@link createTeacherMlp}.
 *
 * @example
 * ```ts
 * createTeacherMlp({ inputDim: 20, hidden: [64, 64], outputDim: 10, weightScale: 2, seed: 1 } satisfies TeacherOptions);
 * ```
 */
export interface TeacherOptions {
  inputDim: number;
  /** Hidden widths (default `[32]`; `[]` gives a linear teacher). */
  hidden?: readonly number[];
  /** Output dimension (default 1; at least 2 for classification). */
  outputDim?: number;
  /** Hidden activation (default `'relu'`). */
  activation?: TeacherActivation;
  /**
   * Weight scale: weights are `N(0, (gain * weightScale)^2 / fanIn)` with gain √2 for relu and 1
   * otherwise (default 1: He/LeCun initialisation, which keeps activations of order one).
   */
  weightScale?: number;
  /** Standard deviation of the biases (default 0.1). */
  biasStd?: number;
  /** Seed of the weights (default 0). */
  seed?: SeedLike;
}

const ACTIVATIONS: readonly TeacherActivation[] = ['relu', 'tanh', 'sigmoid', 'identity'];

/**
 * A random teacher MLP with seeded Gaussian weights; see {@link TeacherMlp}.
 *
 * @example
 * ```ts
 * const teacher = createTeacherMlp({ inputDim: 8, hidden: [16, 16], outputDim: 4, activation: 'tanh', seed: 3 });
 * ```
 */
export function createTeacherMlp(opts: TeacherOptions): TeacherMlp {
  const fn = 'createTeacherMlp';
  checkOptions(opts, ['inputDim', 'hidden', 'outputDim', 'activation', 'weightScale', 'biasStd', 'seed'], fn);
  if (opts === undefined) throw new BasisError('CONFIG_INVALID', `${fn}: pass { inputDim }`);
  const inputDim = checkInt(opts.inputDim, `${fn}: inputDim`, 1);
  const hidden = opts.hidden ?? [32];
  if (!isList(hidden)) throw new BasisError('CONFIG_INVALID', `${fn}: hidden must be a list of widths, got ${describe(hidden)}`);
  hidden.forEach((h, i) => checkInt(h, `${fn}: hidden[${i}]`, 1));
  const outputDim = checkInt(opts.outputDim ?? 1, `${fn}: outputDim`, 1);
  const activation = opts.activation ?? 'relu';
  if (!ACTIVATIONS.includes(activation)) throw new BasisError('CONFIG_INVALID', `${fn}: activation must be one of ${ACTIVATIONS.join(', ')}, got ${describe(activation)}`);
  const scale = checkNumber(opts.weightScale ?? 1, `${fn}: weightScale`, { min: 0, minExclusive: true });
  const biasStd = checkNumber(opts.biasStd ?? 0.1, `${fn}: biasStd`, { min: 0 });
  const rng = toRng(opts.seed);
  const widths = [inputDim, ...hidden, outputDim];
  const layers: TeacherLayer[] = [];
  for (let l = 0; l + 1 < widths.length; l++) {
    const fanIn = widths[l]!;
    const out = widths[l + 1]!;
    const last = l + 2 === widths.length;
    const gain = !last && activation === 'relu' ? Math.SQRT2 : 1;
    const s = (gain * scale) / Math.sqrt(fanIn);
    const r = rng.fork(`layers.${l}`);
    const w = new Matrix(out, fanIn);
    for (let i = 0; i < w.data.length; i++) w.data[i] = s * r.normal();
    const b = new Float64Array(out);
    for (let i = 0; i < out; i++) b[i] = biasStd * r.normal();
    layers.push({ name: `layers.${l}`, weight: w, bias: b });
  }
  return { inputDim, hidden: [...hidden], outputDim, activation, layers };
}

function act(a: TeacherActivation, v: number): number {
  switch (a) {
    case 'relu':
      return v > 0 ? v : 0;
    case 'tanh':
      return Math.tanh(v);
    case 'sigmoid':
      return 1 / (1 + Math.exp(-v));
    case 'identity':
      return v;
  }
}

/**
 * The teacher's outputs (float64, row-major `n x outputDim`) for `n` inputs given row-major in
 * `x` (`n x inputDim`).
 *
 * @example
 * ```ts
 * const y = teacherForward(teacher, new Float64Array(teacher.inputDim)); // one input at the origin
 * ```
 */
export function teacherForward(teacher: TeacherMlp, x: ArrayLike<number>): Float64Array {
  const fn = 'teacherForward';
  if (typeof teacher !== 'object' || teacher === null || !isList(teacher.layers) || teacher.layers.length === 0) {
    throw new BasisError('INVALID_ARGUMENT', `${fn}: expected a teacher from createTeacherMlp, got ${describe(teacher)}`);
  }
  const d = teacher.inputDim;
  if (x === null || typeof x !== 'object' || x.length === 0 || x.length % d !== 0) {
    throw new BasisError('SHAPE_MISMATCH', `${fn}: x must hold n x ${d} values (n >= 1), got ${describe(x)}${x && typeof x === 'object' ? ` of length ${x.length}` : ''}`);
  }
  const n = x.length / d;
  let h = Float64Array.from(x);
  for (let i = 0; i < h.length; i++) if (!Number.isFinite(h[i]!)) throw new BasisError('NON_FINITE_INPUT', `${fn}: x[${i}] is ${h[i]}`);
  const L = teacher.layers.length;
  teacher.layers.forEach((layer, l) => {
    const W = layer.weight;
    if (W.cols !== h.length / n) throw new BasisError('SHAPE_MISMATCH', `${fn}: ${layer.name}.weight has ${W.cols} columns but its input has ${h.length / n}`);
    const out = new Float64Array(n * W.rows);
    for (let i = 0; i < n; i++) {
      for (let o = 0; o < W.rows; o++) {
        let s = layer.bias[o]!;
        const wo = o * W.cols;
        const hi = i * W.cols;
        for (let j = 0; j < W.cols; j++) s += W.data[wo + j]! * h[hi + j]!;
        out[i * W.rows + o] = l + 1 < L ? act(teacher.activation, s) : s;
      }
    }
    h = out;
  });
  return h;
}

/**
 * Options of {@link teacherDataset}.
 *
 * @example
 * ```ts
 * teacherDataset({ teacher, n: 1000, noiseStd: 0.1, inputDistribution: 'uniform', seed: 4 } satisfies TeacherDatasetOptions);
 * ```
 */
export interface TeacherDatasetOptions {
  /** The teacher; see {@link createTeacherMlp}. */
  teacher: TeacherMlp;
  /** Number of examples. */
  n: number;
  /** `'regression'` (targets = teacher outputs + noise, default) or `'classification'` (label = argmax of the outputs; outputDim >= 2). */
  task?: 'regression' | 'classification';
  /** Inputs: `'gaussian'` N(0, inputStd²) (default) or `'uniform'` on [-inputStd, inputStd]. */
  inputDistribution?: 'gaussian' | 'uniform';
  /** Input scale (default 1). */
  inputStd?: number;
  /** Standard deviation of Gaussian noise added to regression targets (default 0). */
  noiseStd?: number;
  /** Seed of the inputs and the noise (default 0). */
  seed?: SeedLike;
}

/**
 * Inputs drawn by seed and labelled by a teacher network: regression targets (`n x outputDim`,
 * optionally noisy) or class labels (argmax of the outputs; classes may be imbalanced, as the
 * teacher decides). `meta.teacher` records the teacher's architecture.
 *
 * @example
 * ```ts
 * const teacher = createTeacherMlp({ inputDim: 10, hidden: [32], outputDim: 5, seed: 0 });
 * const train = teacherDataset({ teacher, n: 2000, task: 'classification', seed: 1 });
 * const test = teacherDataset({ teacher, n: 500, task: 'classification', seed: 2 });
 * ```
 */
export function teacherDataset(opts: TeacherDatasetOptions & { task: 'classification' }): ClassificationDataset;
export function teacherDataset(opts: TeacherDatasetOptions & { task?: 'regression' }): RegressionDataset;
export function teacherDataset(opts: TeacherDatasetOptions): ClassificationDataset | RegressionDataset;
export function teacherDataset(opts: TeacherDatasetOptions): ClassificationDataset | RegressionDataset {
  const fn = 'teacherDataset';
  checkOptions(opts, ['teacher', 'n', 'task', 'inputDistribution', 'inputStd', 'noiseStd', 'seed'], fn);
  if (opts === undefined) throw new BasisError('CONFIG_INVALID', `${fn}: pass { teacher, n }`);
  const { teacher } = opts;
  if (typeof teacher !== 'object' || teacher === null || !isList(teacher.layers)) {
    throw new BasisError('CONFIG_INVALID', `${fn}: teacher must come from createTeacherMlp, got ${describe(teacher)}`);
  }
  const n = checkInt(opts.n, `${fn}: n`, 1);
  const task = opts.task ?? 'regression';
  if (task !== 'regression' && task !== 'classification') throw new BasisError('CONFIG_INVALID', `${fn}: task must be 'regression' or 'classification', got ${describe(task)}`);
  if (task === 'classification' && teacher.outputDim < 2) {
    throw new BasisError('CONFIG_INVALID', `${fn}: classification needs a teacher with outputDim >= 2 (one output per class), got ${teacher.outputDim}`);
  }
  const dist = opts.inputDistribution ?? 'gaussian';
  if (dist !== 'gaussian' && dist !== 'uniform') throw new BasisError('CONFIG_INVALID', `${fn}: inputDistribution must be 'gaussian' or 'uniform', got ${describe(dist)}`);
  const inputStd = checkNumber(opts.inputStd ?? 1, `${fn}: inputStd`, { min: 0, minExclusive: true });
  const noiseStd = checkNumber(opts.noiseStd ?? 0, `${fn}: noiseStd`, { min: 0 });
  if (task === 'classification' && opts.noiseStd !== undefined) throw new BasisError('CONFIG_INVALID', `${fn}: noiseStd applies to regression targets only`);
  const rng = toRng(opts.seed);
  const d = teacher.inputDim;
  const xin = new Float64Array(n * d);
  const xr = rng.fork('inputs');
  for (let i = 0; i < xin.length; i++) xin[i] = dist === 'gaussian' ? inputStd * xr.normal() : xr.uniformRange(-inputStd, inputStd);
  const out = teacherForward(teacher, xin);
  const K = teacher.outputDim;
  const meta = { teacher: { inputDim: d, hidden: [...teacher.hidden], outputDim: K, activation: teacher.activation }, inputDistribution: dist, inputStd };
  const base = {
    source: 'synthetic:teacher',
    n,
    x: Float32Array.from(xin),
    shape: [d],
    normalization: { kind: 'none' } as const,
    sourceIndex: Int32Array.from({ length: n }, (_, i) => i),
  };
  if (task === 'classification') {
    const labels = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      let best = 0;
      for (let k = 1; k < K; k++) if (out[i * K + k]! > out[i * K + best]!) best = k;
      labels[i] = best;
    }
    return { ...base, kind: 'classification', name: 'teacher/classification', labels, numClasses: K, classNames: Array.from({ length: K }, (_, k) => String(k)), meta };
  }
  const targets = new Float32Array(n * K);
  const nr = rng.fork('noise');
  for (let i = 0; i < targets.length; i++) targets[i] = out[i]! + (noiseStd > 0 ? noiseStd * nr.normal() : 0);
  return { ...base, kind: 'regression', name: 'teacher/regression', targets, targetDim: K, meta: { ...meta, noiseStd } };
}

/**
 * Options of {@link modularAddition}.
 *
 * @example
 * ```ts
 * modularAddition({ p: 113, trainFraction: 0.3, encoding: 'onehot', seed: 0 } satisfies ModularAdditionOptions);
 * ```
 */
export interface ModularAdditionOptions {
  /** The modulus (at least 2; a prime such as 97 or 113 as in the grokking literature). */
  p: number;
  /** Fraction of the p² pairs in the training set, in (0, 1) (default 0.3). */
  trainFraction?: number;
  /** Seed of the split (default 0). */
  seed?: SeedLike;
  /**
   * `'tokens'` (default): x = [a, b, p] as token ids (p is the '=' token; vocabulary p + 1), for a
   * transformer. `'onehot'`: x = one-hot(a) ++ one-hot(b), length 2p, for an MLP.
   */
  encoding?: 'tokens' | 'onehot';
}

/**
 * The modular addition task: all p² pairs (a, b) with label (a + b) mod p, in canonical order
 * (`sourceIndex = a * p + b`), split into train and test by seed (`round(trainFraction * p²)`
 * training pairs; both sets shuffled). `meta` records `p`, the encoding and the vocabulary size.
 *
 * @example
 * ```ts
 * const { train, test, all } = modularAddition({ p: 97, trainFraction: 0.3, seed: 0 });
 * all.n; // 9409
 * ```
 */
export function modularAddition(opts: ModularAdditionOptions): DataSplit & { all: ClassificationDataset } {
  const fn = 'modularAddition';
  checkOptions(opts, ['p', 'trainFraction', 'seed', 'encoding'], fn);
  if (opts === undefined) throw new BasisError('CONFIG_INVALID', `${fn}: pass { p }`);
  const p = checkInt(opts.p, `${fn}: p`, 2, 4096);
  const f = checkNumber(opts.trainFraction ?? 0.3, `${fn}: trainFraction`, { min: 0, max: 1, minExclusive: true, maxExclusive: true });
  const encoding = opts.encoding ?? 'tokens';
  if (encoding !== 'tokens' && encoding !== 'onehot') throw new BasisError('CONFIG_INVALID', `${fn}: encoding must be 'tokens' or 'onehot', got ${describe(encoding)}`);
  const N = p * p;
  const nTrain = Math.round(f * N);
  if (nTrain < 1 || nTrain > N - 1) throw new BasisError('TOO_SMALL', `${fn}: trainFraction ${f} of ${N} pairs leaves an empty train or test set; choose a fraction between ${1 / N} and ${1 - 1 / N}`);
  const width = encoding === 'tokens' ? 3 : 2 * p;
  const make = (idx: ArrayLike<number>, name: string): ClassificationDataset => {
    const m = idx.length;
    const x = new Float32Array(m * width);
    const labels = new Int32Array(m);
    const src = new Int32Array(m);
    for (let r = 0; r < m; r++) {
      const i = idx[r] as number;
      const a = Math.floor(i / p);
      const b = i % p;
      if (encoding === 'tokens') {
        x[r * 3] = a;
        x[r * 3 + 1] = b;
        x[r * 3 + 2] = p;
      } else {
        x[r * width + a] = 1;
        x[r * width + p + b] = 1;
      }
      labels[r] = (a + b) % p;
      src[r] = i;
    }
    return {
      kind: 'classification',
      name,
      source: 'synthetic:modular-addition',
      n: m,
      x,
      shape: [width],
      labels,
      numClasses: p,
      classNames: Array.from({ length: p }, (_, k) => String(k)),
      normalization: { kind: 'none' },
      sourceIndex: src,
      meta: { p, encoding, vocabSize: encoding === 'tokens' ? p + 1 : undefined, equalsToken: encoding === 'tokens' ? p : undefined, trainFraction: f },
    };
  };
  const rng: Rng = toRng(opts.seed);
  const order = Int32Array.from({ length: N }, (_, i) => i);
  shuffle(order, rng);
  const trainIdx = order.slice(0, nTrain);
  const testIdx = order.slice(nTrain);
  const all = make(Int32Array.from({ length: N }, (_, i) => i), `modular-addition-${p}`);
  return { train: make(trainIdx, `modular-addition-${p}/train`), test: make(testIdx, `modular-addition-${p}/test`), all };
}
