// Every `basis` command, declared once: the argv parser, `--help`, the docs' CLI reference and the
// typed options each command runs with are generated from this table. Command modules are loaded
// only when their command runs (start-up stays quick).
import { listMetrics } from '@basis/align';
import { BasisError, parseThreads } from '@basis/tensor';
import type { StitchKind } from '@basis/connectivity';
import type { TrainFlagParsers } from '../commands/train.js';
import { parseMemorySize } from '../resources.js';
import { args, choice, command, custom, deferred, flag, FlagValueError, int, list, num, optionalValue, repeatable, text, value, type AnyCommand, type FlagSchema, type OptionDecls } from './declare.js';

const BACKENDS = ['auto', 'tensorflow', 'wasm', 'cpu'] as const;

/** Global options, understood by every command. */
export const GLOBAL_OPTIONS = {
  backend: value('name', 'tfjs backend: auto (tensorflow > wasm > cpu), tensorflow, wasm or cpu', choice(BACKENDS), { default: 'auto' }),
  seed: value('n', 'seed for every random draw', custom((s) => (/^\+?\d+$/.test(s.trim()) && Number.isSafeInteger(Number(s)) ? Number(s) : fail(`must be a non-negative integer, got '${s}'`))), { default: 0 }),
  threads: value(
    'n',
    'threads of the compute engine (system BLAS/LAPACK): a number or all (default: BASIS_THREADS, else every core; worker pools share them, one per worker when they run several jobs)',
    custom((s) => {
      try {
        return parseThreads(s, '{flag}');
      } catch (e) {
        throw new FlagValueError((e as Error).message);
      }
    }),
  ),
  json: flag('print a machine-readable result on stdout and nothing else there'),
  quiet: flag('no progress or informational messages on stderr'),
} satisfies OptionDecls;

function fail(message: string): never {
  throw new FlagValueError(message);
}

const usage = (message: string): never => {
  throw new BasisError('USAGE', message);
};

/** `--queue [url]` as the commands take it: '' for the flag without a value (BASIS_QUEUE), undefined when absent. */
const queueOf = (q: string | true | undefined): { queue?: string } => (q === undefined ? {} : { queue: q === true ? '' : q });

/** The model flags of the commands that read a MODEL (parsed by model-args.ts's modelArgsOf, which knows zoo's registries). */
function modelOptions(intro: { arch: string; keyMap: string; dataset?: string }) {
  return {
    ...(intro.dataset === undefined ? {} : { dataset: value('name', intro.dataset, text()) }),
    arch: value('name', intro.arch, text()),
    width: value('n', 'with --arch: one width, or a list for mlp (hidden layers, 64,32), resnet (stages, 8,16) and cnn (conv blocks, 32,64)', text()),
    depth: value('n', 'with --arch: mlp hidden layers, resmlp blocks, resnet blocks per stage', text()),
    keyMap: repeatable('rule', intro.keyMap, text()),
  } satisfies OptionDecls;
}

const ARCH_HELP = 'architecture of a bare .safetensors/.pt MODEL: mlp, resmlp, minimyrtle, resnet or cnn (with --width, --depth)';
const KEY_MAP_HELP = "with --arch: rename the file's keys, 'regex=replacement' ('' drops a key); unmatched names are mapped by module order and shapes";
const DATASET_HELP = 'mnist or fashion (default: the dataset the model was trained on)';

/** Parses `--kind identity|permutation|affine|grelu|rank:R`. */
export function parseStitchKind(s: string): StitchKind {
  if (s === 'identity' || s === 'permutation' || s === 'affine' || s === 'grelu') return s;
  const m = /^rank:(\d+)$/.exec(s);
  if (m !== null && Number(m[1]) >= 1) return { rank: Number(m[1]) };
  return fail(`must be identity, permutation, affine, grelu or rank:R, got '${s}'`);
}

/** `--options` JSON: an object mapping metric ids to option objects (values are checked by the metric registry). */
const metricOptionsJson = custom((s): Record<string, Record<string, unknown>> => {
  let v: unknown;
  try {
    v = JSON.parse(s);
  } catch (e) {
    return fail(`is not valid JSON (${(e as Error).message})`);
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v) || Object.values(v).some((o) => typeof o !== 'object' || o === null || Array.isArray(o))) {
    return fail(`must map metric ids to option objects, e.g. '{"knn.mutual":{"k":5}}'`);
  }
  return v as Record<string, Record<string, unknown>>;
});

const MATCH_METHODS = ['none', 'weight', 'activation', 'sinkhorn'] as const;
const LLC_LOSSES = ['behavioral-mse', 'behavioral-kl', 'mse', 'cross-entropy'] as const;

const info = command({
  name: 'info',
  args: [],
  summary: 'Show versions, the compute engine (system BLAS/LAPACK or WebAssembly, library, core type, threads), the active tfjs backend and which optional backends load',
  options: {},
  examples: ['basis info --json'],
  engineNotice: false,
  run: async (ctx) => {
    const { runInfo } = await import('../commands/info.js');
    await runInfo(ctx);
  },
});

const demo = command({
  name: 'demo',
  args: [],
  summary: 'The main job: train two MNIST MLPs, verify their symmetry spec, audit them with every metric, measure LMC before/after matching and LLFC, write an HTML report',
  options: {
    out: value('dir', 'folder for report.html, result.json and figures/ (locked while written: a second writer fails at once naming the first)', text(), { default: 'basis-demo' }),
    quick: flag('a smaller, faster profile (width 128, 2 epochs, 500 audit inputs)'),
    width: value('n', 'hidden width of the two MLPs (default 512; quick 128)', int(2)),
    epochs: value('n', 'training epochs (default 10, the mlpMnist recipe; quick 2)', int(1)),
  },
  examples: ['basis demo --out basis-demo', 'basis demo --quick --json'],
  run: async (ctx, _a, o) => {
    const { runDemoCommand } = await import('../commands/demo.js');
    await runDemoCommand(ctx, { out: o.out, quick: o.quick, ...(o.width === undefined ? {} : { width: o.width }), ...(o.epochs === undefined ? {} : { epochs: o.epochs }) });
  },
});

const reproduce = command({
  name: 'reproduce',
  args: args('[id]'),
  summary: 'Reproduce an experiment of the seed papers (E000-1 ... V001-4, or all) with a cached, resumable run; writes report.html with claim, paper, measured and verdict',
  options: {
    quick: flag('the quick profile (tiny models, about a minute per experiment on 2 cores; too small to decide a claim); same as --profile quick'),
    profile: value('name', "quick, standard (models trained to their plateau, >= 5 seeds, <= 30 min per experiment on 2 cores: the gallery's profile) or full (default)", choice(['quick', 'standard', 'full'], 'quick, standard or full')),
    list: flag('list the experiment ids and exit (with --profile or --quick: the estimated run time of each)'),
    out: value('dir', 'output folder (default basis-reproduce/<id>; for all: basis-reproduce, one folder per experiment); locked while written, a second writer fails at once naming the first', text()),
    config: value('file', 'JSON or YAML file overriding the profile (or { experiment, profile, seed, config })', text()),
    cache: value('dir', 'run cache of trained models and results (default: a cache/ folder beside OUT for one experiment, OUT/cache for all); runs may share it: a model another process is training is waited for, then reused', text()),
    workers: value('n', 'training worker threads (default: the thread budget, --threads; each gets an equal share of the BLAS threads)', int(1)),
    queue: optionalValue(
      'url',
      "run the expensive stages on 'basis worker' processes (any number of machines) through this Redis queue: training (a train job per model), activation captures and the comparisons a recipe declares (a capture job per model and input set, a compare job per pair, enqueued once what they read exists); same results as a local run. redis://HOST:PORT, rediss://USER:PASSWORD@HOST:PORT, env:NAME (the URL is in that environment variable), or no value for BASIS_QUEUE; --cache must then be a folder every worker sees at the same path. Credentials are never printed",
    ),
    queueName: value('name', 'with --queue: the queue to use (default basis; workers need the same --name)', text()),
  },
  examples: [
    'basis reproduce --list',
    'basis reproduce E000-1 --quick',
    'basis reproduce all --quick --out reproduce/',
    'basis reproduce all --profile standard --out reproduce/   # also writes reproduce/index.html',
    'basis reproduce E002-1 --config widths.yaml',
    'basis reproduce all --profile standard --cache /shared/basis-cache --queue env:BASIS_QUEUE_URL',
  ],
  check: (_a, o) => {
    if (o.quick && o.profile !== undefined && o.profile !== 'quick') usage(`--quick and --profile ${o.profile} contradict each other; give one of them`);
  },
  run: async (ctx, a, o) => {
    const { runReproduce } = await import('../commands/reproduce.js');
    const { queue, ...rest } = o;
    return runReproduce(ctx, a['id'], { ...rest, ...queueOf(queue) });
  },
});

const worker = command({
  name: 'worker',
  args: [],
  summary: 'Run queued jobs (models, captures and comparisons of basis reproduce --queue; seeds of basis train --queue; audit rows of basis compare --layers --queue) until stopped: start one per machine or core group; SIGTERM lets the running job finish, a second SIGTERM releases it back to the queue',
  options: {
    queue: optionalValue('url', 'the Redis queue: redis://HOST:PORT, rediss://USER:PASSWORD@HOST:PORT, env:NAME, or no value for BASIS_QUEUE (never printed with its password)'),
    name: value('queue', 'queue name (default basis)', text()),
    concurrency: value('n', 'jobs at once in this process, each on its own worker thread (give each an equal share of the cores with --threads)', int(1, 256), { default: 1 }),
    lock: value('seconds', "how long a job's lock lasts without renewal: a worker killed mid-job holds its job this long, then another worker takes it over", int(1, 86_400), { default: 30 }),
  },
  examples: ['basis worker --queue redis://10.0.0.5:6379 --concurrency 2', 'BASIS_QUEUE_URL=rediss://basis:PASSWORD@10.0.0.5:6380 basis worker --queue env:BASIS_QUEUE_URL'],
  run: async (ctx, _a, o) => {
    const { runWorkerCommand } = await import('../commands/queue.js');
    return runWorkerCommand(ctx, { ...queueOf(o.queue), ...(o.name === undefined ? {} : { name: o.name }), concurrency: o.concurrency, lock: o.lock });
  },
});

const queue = command({
  name: 'queue',
  args: args('<action>'),
  summary: 'The job queue: status (jobs per kind and state, workers, failures), retry (failed jobs back into the queue) or clear (remove its jobs; models in the store stay)',
  options: {
    queue: optionalValue('url', 'the Redis queue: redis://HOST:PORT, rediss://USER:PASSWORD@HOST:PORT, env:NAME, or no value for BASIS_QUEUE'),
    name: value('queue', 'queue name (default basis)', text()),
    force: flag('with clear: also remove jobs that are running'),
  },
  examples: ['basis queue status --queue redis://10.0.0.5:6379', 'basis queue retry --queue env:BASIS_QUEUE_URL', 'basis queue clear --queue redis://10.0.0.5:6379 --force'],
  engineNotice: false,
  check: (a) => {
    if (!['status', 'retry', 'clear'].includes(a['action'] as string)) usage(`unknown queue action '${a['action'] as string}': use status, retry or clear`);
  },
  run: async (ctx, a, o) => {
    const { runQueueCommand } = await import('../commands/queue.js');
    return runQueueCommand(ctx, a['action'] as string, { ...queueOf(o.queue), ...(o.name === undefined ? {} : { name: o.name }), force: o.force });
  },
});

const compare = command({
  name: 'compare',
  args: args('[a]', '[b]'),
  summary: 'Compare two activation matrices (rows = the same inputs, columns = units); --list shows the metrics',
  options: {
    list: flag('print the metric registry (id, family, kind, invariances, cost class, options) and exit'),
    metric: value('ids', `comma-separated metric ids or aliases (default: all): ${listMetrics().map((d) => d.id).join(', ')}`, list((id) => id)),
    options: value('json', `metric options as JSON, e.g. '{"knn.mutual":{"k":5},"linear.cv":{"folds":10}}'`, metricOptionsJson),
    layers: flag('A and B are folders with one .npy per layer: compare every layer pair'),
    queue: optionalValue(
      'url',
      "with --layers: compute the rows (one per layer of A) on 'basis worker' processes through this Redis queue (redis://HOST:PORT, rediss://…, env:NAME, or no value for BASIS_QUEUE); the layer folders and --out must be on a filesystem the workers share",
    ),
    queueName: value('name', 'with --queue: the queue to use (default basis)', text()),
    out: value('dir', 'with --layers: folder for audit.json, <metric>.csv and <metric>.html (locked while written)', text(), { default: 'basis-compare' }),
    maxMemory: value(
      'size',
      'refuse to start when the estimated peak memory exceeds this (e.g. 8G, 512M, 75% of this machine, none; default 50% of its memory); time and memory are estimated from the shapes before any metric runs',
      custom((s) => parseMemorySize(s, '{flag}')),
    ),
  },
  examples: [
    'basis compare layer3_a.npy layer3_b.npy --metric cka.linear,procrustes.similarity',
    'basis compare --list',
    'basis compare big_a.npy big_b.npy --max-memory 20G',
    'basis compare --layers acts/seed0 acts/seed1 --metric cka.linear --out audit/',
    'basis compare --layers /shared/acts/s0 /shared/acts/s1 --out /shared/audit --queue env:BASIS_QUEUE_URL',
    'basis compare model_a.safetensors:blocks.2 model_b.npz:acts --json',
  ],
  check: (a, o) => {
    if (o.list && a['a'] !== undefined) usage('--list takes no inputs: basis compare --list');
    if (!o.list && (a['a'] === undefined || a['b'] === undefined)) usage('compare needs two inputs A and B (basis compare A B), or --list to see the metrics');
  },
  run: async (ctx, a, o) => {
    if (o.list) {
      const { runCompareList } = await import('../commands/compare.js');
      runCompareList(ctx);
      return;
    }
    const { selectMetrics } = await import('../commands/compare.js');
    // --metric and --options are resolved together, once: the ids, and each metric's options with defaults
    const metrics = selectMetrics(o.metric, o.options ?? {});
    const [pathA, pathB] = [a['a'] as string, a['b'] as string];
    if (o.layers) {
      const { runCompareLayers } = await import('../commands/layers.js');
      await runCompareLayers(ctx, pathA, pathB, { metrics, out: o.out, ...(o.maxMemory === undefined ? {} : { maxMemory: o.maxMemory }), ...queueOf(o.queue), ...(o.queueName === undefined ? {} : { queueName: o.queueName }) });
      return;
    }
    const { runCompare } = await import('../commands/compare.js');
    await runCompare(ctx, pathA, pathB, { metrics, ...(o.maxMemory === undefined ? {} : { maxMemory: o.maxMemory }) });
  },
});

/** A parser of `basis train`'s flags that needs @basis/zoo (loaded when train runs: commands/train.ts's TRAIN_FLAG_PARSERS). */
function zooParser<K extends keyof TrainFlagParsers>(key: K): FlagSchema<ReturnType<TrainFlagParsers[K]>> {
  return deferred(async () => (await import('../commands/train.js')).TRAIN_FLAG_PARSERS[key] as (s: string) => ReturnType<TrainFlagParsers[K]>);
}

/** A number >= 0 (an entry of --checkpoints). */
const fraction = (s: string): number => {
  const n = Number(s);
  return Number.isFinite(n) && n >= 0 ? n : fail(`must be a number >= 0, got '${s}'`);
};

const train = command({
  name: 'train',
  args: [],
  summary: 'Train models (one per seed, in parallel on worker threads) into run directories with checkpoints',
  options: {
    config: value('file', 'JSON config { model, data, train, seeds, spawnSteps } (flags override its fields)', text()),
    arch: value('name', 'architecture: mlp, resmlp, minimyrtle, resnet, cnn or transformer (default mlp; the transformer needs --data modadd)', zooParser('arch')),
    width: value('n', 'mlp: hidden width, or one per layer (64,32); resnet: width multiplier k, or stage widths (8,16); cnn: conv widths (32,64); resmlp: hidden width; minimyrtle: channels c; transformer: model width', zooParser('width')),
    depth: value('n', 'mlp: hidden layers; resmlp: blocks; resnet: blocks per stage; transformer: layers', int(1)),
    activation: value('fn', 'hidden activation (relu, leaky_relu, tanh, gelu, ...)', zooParser('activation')),
    dataset: value('name', 'mnist (10k digits, 8k/2k split) or fashion (60k/10k); see --data for the others', zooParser('dataset')),
    data: value(
      'spec',
      'data: mnist | fashion | idx:DIR (the 4 standard MNIST-layout files) | idx:TRAIN_IMAGES,TRAIN_LABELS[,TEST_IMAGES,TEST_LABELS] (IDX, optionally .gz; ' +
        'without test files 20% is held out; add source=fashion-mnist|idx, testFraction=) | modadd[:p=97,trainFraction=0.3,encoding=tokens|onehot] ' +
        '(modular addition; tokens for the transformer, one-hot otherwise) | gaussian[:n=2000,classes=3,dim=10,separation=3,std=1]',
      zooParser('data'),
    ),
    trainSize: value('n', 'class-balanced training subset', int(10)),
    testSize: value('n', 'class-balanced test subset', int(10)),
    epochs: value('n', 'epochs', int(1)),
    batchSize: value('n', 'batch size', int(1)),
    optimizer: value('kind', 'sgd (momentum 0.9, Nesterov), adam or adamw', choice(['sgd', 'adam', 'adamw'])),
    lr: value('x', 'learning rate (cosine decay unless the config says otherwise)', num({ gt: 0 })),
    weightDecay: value('x', 'weight decay', num({ ge: 0 })),
    checkpoints: value('fractions', 'extra checkpoints at these epoch fractions, e.g. 0,0.1,0.25,0.5 (every epoch is saved too)', list(fraction)),
    seeds: value('list', 'comma-separated seeds, trained in parallel (default: --seed)', zooParser('seeds')),
    workers: value('n', 'worker threads for several seeds (default: the thread budget, --threads, at most one per seed; each gets an equal share of the BLAS threads)', int(1)),
    spawnSteps: value('k', 'spawning: train one shared trunk (OUT/trunk, seed --seed) for k steps, then fork it into the --seeds (same weights at step k, own data order after)', int(1)),
    out: value('dir', 'output folder: one run directory per seed (OUT/seed-S) and train.json; locked while training (a second basis train into OUT fails at once naming the first; a lock left by a dead process is taken over)', text(), { default: 'basis-runs' }),
    resume: flag('continue interrupted runs in OUT from their latest checkpoints'),
    queue: optionalValue('url', "train the seeds on 'basis worker' processes through this Redis queue (redis://HOST:PORT, rediss://…, env:NAME, or no value for BASIS_QUEUE); OUT must be a folder every worker sees at the same path; not with --spawn-steps"),
    queueName: value('name', 'with --queue: the queue to use (default basis)', text()),
  },
  examples: [
    'basis train --arch mlp --width 512 --depth 2 --dataset mnist --seeds 0,1 --out runs/mlp',
    'basis train --arch minimyrtle --width 16 --dataset fashion --epochs 3 --out runs/cnn',
    'basis train --arch mlp --width 64,32 --dataset mnist --out runs/mlp-64-32',
    'basis train --config train.json --resume',
    'basis train --data idx:train-images-idx3-ubyte.gz,train-labels-idx1-ubyte.gz,t10k-images-idx3-ubyte.gz,t10k-labels-idx1-ubyte.gz --out runs/idx',
    'basis train --arch transformer --width 64 --data modadd:p=59 --epochs 20 --out runs/grok',
    'basis train --seeds 1,2,3 --spawn-steps 100 --out runs/spawned',
    'basis train --seeds 0,1,2,3,4,5,6,7 --out /shared/runs/mlp --queue env:BASIS_QUEUE_URL',
  ],
  check: (_a, o) => {
    if (o.data !== undefined && o.dataset !== undefined) usage('give --data or --dataset, not both');
  },
  run: async (ctx, _a, o) => {
    const { runTrain } = await import('../commands/train.js');
    const { queue, ...rest } = o;
    const defined = Object.fromEntries(Object.entries(rest).filter(([, v]) => v !== undefined)) as typeof rest;
    return runTrain(ctx, { ...defined, ...queueOf(queue) });
  },
});

const evalCommand = command({
  name: 'eval',
  args: args('<model>'),
  summary: 'Accuracy and loss of a trained model on its test set and on out-of-distribution conditions',
  options: {
    ood: value('conditions', 'comma-separated OOD conditions, or all (noise-0.2, rotate-30, invert, blur-1, elastic-mild, cross-dataset, ...)', text()),
    n: value('count', 'only the first N test examples', int(1)),
    batchSize: value('n', 'examples per forward pass', int(1), { default: 1000 }),
    ...modelOptions({ arch: ARCH_HELP, keyMap: KEY_MAP_HELP, dataset: DATASET_HELP }),
  },
  examples: [
    'basis eval runs/mlp/seed-0',
    'basis eval runs/mlp/seed-0 --ood all --json',
    'basis eval mlp.pt --arch mlp --width 512 --depth 2',
    'basis eval sequential.pt --arch mlp --width 64,32',
    'basis eval model.onnx   # torch.onnx.export: the graph comes with the file, no --arch',
  ],
  run: async (ctx, a, o) => {
    const { modelArgsOf } = await import('../commands/model-args.js');
    const { runEval } = await import('../commands/eval.js');
    await runEval(ctx, a['model'] as string, { margs: modelArgsOf(o), batchSize: o.batchSize, ...(o.n === undefined ? {} : { n: o.n }), ...(o.ood === undefined ? {} : { ood: o.ood }) });
  },
});

const activations = command({
  name: 'activations',
  args: args('<model>'),
  summary: 'Capture activations of a trained model on test inputs: one .npy per capture point, for compare --layers',
  options: {
    out: value('dir', 'output folder', text(), { default: 'basis-activations' }),
    points: value('names', 'comma-separated capture points (node names), or all (default: every activation and the output)', custom((s) => (s.trim() === 'all' ? ('all' as const) : s.split(',').map((p) => p.trim()).filter((p) => p.length > 0)))),
    view: value('view', 'conv feature maps: pooled (spatial mean, N x C), channel (rows = inputs x positions) or flat (N x C·H·W)', choice(['channel', 'flat', 'pooled']), { default: 'pooled' }),
    n: value('count', 'number of test inputs', int(1), { default: 1000 }),
    maxRows: value('n', 'channel view: keep at most this many rows, drawn by --seed (the same rows for every model)', int(3)),
    ...modelOptions({ arch: ARCH_HELP, keyMap: KEY_MAP_HELP, dataset: DATASET_HELP }),
  },
  examples: ['basis activations runs/mlp/seed-0 --out acts/seed0 --n 2000', 'basis compare --layers acts/seed0 acts/seed1 --metric cka.linear'],
  run: async (ctx, a, o) => {
    const { modelArgsOf } = await import('../commands/model-args.js');
    const { runActivations } = await import('../commands/activations.js');
    await runActivations(ctx, a['model'] as string, { margs: modelArgsOf(o), out: o.out, view: o.view, n: o.n, ...(o.points === undefined ? {} : { points: o.points }), ...(o.maxRows === undefined ? {} : { maxRows: o.maxRows }) });
  },
});

const symmetry = command({
  name: 'symmetry',
  args: args('<action>', '[model]'),
  summary: 'Symmetries: `table`, `probe --fn "x => ..."`, `check MODEL` (infer and verify the spec) or `apply MODEL --out DIR` (random group element)',
  options: {
    fn: value('src', 'with probe: the activation as a JS function or expression in x, or a registry id (relu, tanh, leaky_relu, ...)', text()),
    n: value('units', 'with table/probe: number of units of the random group elements', int(2), { default: 4 }),
    slope: value('a', 'with probe --fn leaky_relu: the negative slope', num()),
    degree: value('d', 'with probe --fn polynomial: the degree', int(1)),
    out: value('dir', 'with apply: where to write the transformed model', text()),
    inputs: value('k', 'with check/apply: test inputs to run the model on', int(2), { default: 64 }),
    tol: value('x', 'with check: relative tolerance (float32)', num({ gt: 0 }), { default: 1e-5 }),
    trials: value('k', 'with check: random elements per group', int(1), { default: 2 }),
    scaleSigma: value('s', 'with check/apply: log-scale spread of random positive scales', num({ ge: 0 }), { default: 0.5 }),
    ...modelOptions({ dataset: `with check/apply: ${DATASET_HELP}`, arch: `with check/apply: ${ARCH_HELP}`, keyMap: KEY_MAP_HELP }),
  },
  examples: [
    'basis symmetry table',
    'basis symmetry probe --fn "x => x / (1 + Math.exp(-x))"',
    'basis symmetry probe --fn leaky_relu --slope 1 --json',
    'basis symmetry check runs/mlp/seed-0',
    'basis symmetry check model.pt --arch resnet --width 8,16 --depth 1',
    'basis symmetry check model.onnx',
    'basis symmetry apply runs/mlp/seed-0 --out runs/mlp/seed-0-permuted --seed 3',
  ],
  check: (a, o) => {
    const action = a['action'] as string;
    if (!['table', 'probe', 'check', 'apply'].includes(action)) {
      usage(`unknown symmetry action '${action}'; use 'basis symmetry table', 'basis symmetry probe --fn "x => ..."', 'basis symmetry check MODEL' or 'basis symmetry apply MODEL --out DIR'`);
    }
    if (action === 'probe' && o.fn === undefined) usage('basis symmetry probe needs --fn, e.g. --fn "x => Math.max(x, 0)" (or a registry id: --fn relu)');
    if ((action === 'check' || action === 'apply') && a['model'] === undefined) {
      usage(`basis symmetry ${action} needs a MODEL (a checkpoint directory, or a weights file with --arch), e.g. basis symmetry ${action} runs/seed-0`);
    }
    if (action === 'apply' && o.out === undefined) usage('basis symmetry apply needs --out DIR for the transformed model');
  },
  run: async (ctx, a, o) => {
    const { modelArgsOf } = await import('../commands/model-args.js');
    const { runSymmetry } = await import('../commands/symmetry.js');
    const { fn, slope, degree, out, arch, width, depth, keyMap, dataset, ...rest } = o;
    await runSymmetry(ctx, a['action'] as string, {
      ...rest,
      margs: modelArgsOf({ arch, width, depth, keyMap, dataset }),
      ...(a['model'] === undefined ? {} : { model: a['model'] }),
      ...(fn === undefined ? {} : { fn }),
      ...(slope === undefined ? {} : { slope }),
      ...(degree === undefined ? {} : { degree }),
      ...(out === undefined ? {} : { out }),
    });
  },
});

/** Options of the commands on two models A and B (interpolate, match, llfc, stitch). */
const PAIR_OPTIONS = {
  dataset: value('name', 'mnist or fashion (default: the dataset A was trained on)', choice(['mnist', 'fashion'])),
  n: value('k', 'test inputs to evaluate (default: the whole test split)', int(10)),
  out: value('dir', 'folder for JSON, CSV, SVG and HTML results', text()),
  ...(({ dataset: _d, ...rest }) => rest)(
    modelOptions({
      arch: 'architecture of bare .safetensors/.pt files A and B: mlp, resmlp, minimyrtle, resnet or cnn (with --width, --depth; checkpoint folders ignore it)',
      keyMap: "with --arch: rename the files' keys, 'regex=replacement' ('' drops a key); unmatched names are mapped by module order and shapes",
    }),
  ),
} satisfies OptionDecls;

/** The shared part of the pair commands' options, parsed. */
async function pairOptions(o: { dataset?: 'mnist' | 'fashion' | undefined; n?: number | undefined; out?: string | undefined; arch?: string | undefined; width?: string | undefined; depth?: string | undefined; keyMap?: string[] | undefined }) {
  const { modelArgsOf } = await import('../commands/model-args.js');
  const margs = modelArgsOf({ arch: o.arch, width: o.width, depth: o.depth, keyMap: o.keyMap });
  return { model: { ...margs, ...(o.dataset === undefined ? {} : { dataset: o.dataset }) }, ...(o.n === undefined ? {} : { n: o.n }), ...(o.out === undefined ? {} : { out: o.out }) };
}

const interpolate = command({
  name: 'interpolate',
  args: args('<a>', '<b>'),
  summary: 'Loss and error along the linear path between two models (barriers: max−mean and max−linear), optionally after matching',
  options: {
    ...PAIR_OPTIONS,
    match: value('method', 'none, weight, activation or sinkhorn', choice(MATCH_METHODS), { default: 'weight' }),
    points: value('k', 'λ grid size', int(2), { default: 11 }),
    repair: value('mode', 'none, bn-reset or repair (default: bn-reset for batchnorm models)', choice(['none', 'bn-reset', 'repair'])),
  },
  examples: ['basis interpolate runs/mlp/seed-0 runs/mlp/seed-1 --match weight --out lmc/'],
  run: async (ctx, a, o) => {
    const { runInterpolate } = await import('../commands/connectivity.js');
    await runInterpolate(ctx, a['a'] as string, a['b'] as string, { ...(await pairOptions(o)), match: o.match, points: o.points, ...(o.repair === undefined ? {} : { repair: o.repair }) });
  },
});

const match = command({
  name: 'match',
  args: args('<a>', '<b>'),
  summary: "Align B's units to A's through the inferred symmetry spec and write the aligned copy of B",
  options: {
    ...PAIR_OPTIONS,
    method: value('m', 'weight (coordinate descent, modulo G_ReLU), activation (feature correlations) or sinkhorn', choice(['weight', 'activation', 'sinkhorn']), { default: 'weight' }),
  },
  examples: ['basis match runs/mlp/seed-0 runs/mlp/seed-1 --out runs/mlp/seed-1-aligned', 'basis match a.pt b.pt --arch mlp --width 64,32 --out b-aligned', 'basis match model.onnx runs/permuted --out runs/aligned'],
  check: (_a, o) => {
    if (o.out === undefined) usage('basis match needs --out DIR for the aligned copy of B');
  },
  run: async (ctx, a, o) => {
    const { runMatch } = await import('../commands/connectivity.js');
    await runMatch(ctx, a['a'] as string, a['b'] as string, { ...(await pairOptions(o)), method: o.method });
  },
});

const llfcCommand = command({
  name: 'llfc',
  args: args('<a>', '<b>'),
  summary: 'Layerwise linear feature connectivity, weak additivity and commutativity (S004), before or after matching',
  options: {
    ...PAIR_OPTIONS,
    match: value('method', 'none, weight, activation or sinkhorn', choice(MATCH_METHODS), { default: 'weight' }),
    alphas: value('list', 'comma-separated α values', list((s) => (Number.isFinite(Number(s)) ? Number(s) : fail(`must be comma-separated numbers, got '${s}'`))), { default: '0.5' }),
  },
  examples: ['basis llfc runs/mlp/seed-0 runs/mlp/seed-1 --match none'],
  run: async (ctx, a, o) => {
    const { runLlfc } = await import('../commands/connectivity.js');
    await runLlfc(ctx, a['a'] as string, a['b'] as string, { ...(await pairOptions(o)), match: o.match, alphas: o.alphas });
  },
});

const stitchCommand = command({
  name: 'stitch',
  args: args('<a>', '<b>'),
  summary: "Stitch A's layers ≤ L to B's layers > L through a trained stitching layer; report the S003 penalty",
  options: {
    ...PAIR_OPTIONS,
    layer: value('name', 'the cut (a top-level node, e.g. layers.1)', text()),
    kind: value('kind', 'identity, permutation, affine, rank:R or grelu', custom(parseStitchKind), { default: 'affine' }),
    epochs: value('k', 'epochs of stitching-layer training', int(0), { default: 5 }),
  },
  examples: ['basis stitch runs/mlp/seed-0 runs/mlp/seed-1 --layer layers.1 --kind grelu'],
  check: (_a, o) => {
    if (o.layer === undefined) usage('basis stitch needs --layer, e.g. --layer layers.1');
  },
  run: async (ctx, a, o) => {
    const { runStitch } = await import('../commands/connectivity.js');
    await runStitch(ctx, a['a'] as string, a['b'] as string, { ...(await pairOptions(o)), layer: o.layer as string, kind: o.kind, epochs: o.epochs });
  },
});

const DATA_HELP = 'inputs: mnist[:N], gaussian[:N] or an array file';

const degeneracy = command({
  name: 'degeneracy',
  args: args('<model>'),
  summary: 'Degeneracy report per layer (S001): Gram/Jacobian spectra, free directions, firing patterns, interaction bases (non-local and local), modules',
  options: {
    data: value('spec', 'inputs: mnist[:N] (test digits, normalised as the checkpoint was trained), gaussian[:N] or an array file (.npy, file.npz:key, file.safetensors:name)', text(), { default: 'gaussian:512' }),
    eps: value('list', 'comma-separated noise scales for free-direction counts', list((s, i) => (Number(s) > 0 && Number.isFinite(Number(s)) ? Number(s) : fail(`entry ${i + 1} must be a positive number, got '${s}'`))), { default: '1e-6,1e-4,1e-2' }),
    tau: value('t', 'approximate-synchronisation threshold (normalised Hamming distance)', num({ ge: 0 }), { default: 0.01 }),
    out: value('dir', 'folder for report.json', text()),
  },
  examples: ['basis degeneracy runs/mlp/seed-0 --data mnist:1000 --json'],
  run: async (ctx, a, o) => {
    const { runDegeneracy } = await import('../commands/degeneracy.js');
    const { loadModel } = await import('@basis/zoo/node');
    await runDegeneracy(ctx, a['model'] as string, { load: loadModel, data: o.data, eps: o.eps, tau: o.tau, ...(o.out === undefined ? {} : { out: o.out }) });
  },
});

const interactionBasis = command({
  name: 'interaction-basis',
  args: args('<model>'),
  summary: 'Interaction basis of every MLP layer (S001 Sec. 6 / App. A) as safetensors',
  options: {
    data: value('spec', DATA_HELP, text(), { default: 'gaussian:512' }),
    out: value(
      'dir',
      'folder for interaction-basis.safetensors (float64 C.<layer> = basis, Cpinv.<layer>, edges.<l> = transition between consecutive bases, incoming.<l> = W^l (C^l)⁺) and summary.json',
      text(),
      { default: 'basis-interaction-basis' },
    ),
    scaling: value('s', "final scaling: 'sqrt' (App. A) or 'inv_sqrt' (Sec. 6)", choice(['sqrt', 'inv_sqrt'], 'sqrt or inv_sqrt'), { default: 'sqrt' }),
    center: flag('centre the features and append the constant feature'),
    tol: value('t', 'relative eigenvalue cut-off', num({ ge: 0, lt: 1 }), { default: 1e-6 }),
    variant: value('v', "'non-local' (Sec. 6: output Jacobians) or 'local' (LIB, App. A: Jacobians of the next layer's basis)", choice(['non-local', 'local'], 'non-local or local'), { default: 'non-local' }),
  },
  examples: ['basis interaction-basis runs/mlp/seed-0 --data mnist:2000 --out ib/'],
  run: async (ctx, a, o) => {
    const { runInteractionBasis } = await import('../commands/degeneracy.js');
    const { loadModel } = await import('@basis/zoo/node');
    await runInteractionBasis(ctx, a['model'] as string, { load: loadModel, ...o });
  },
});

const llc = command({
  name: 'llc',
  args: args('<model>'),
  summary: 'Local learning coefficient by SGLD (behavioral loss by default) with diagnostics',
  options: {
    data: value('spec', DATA_HELP, text(), { default: 'gaussian:512' }),
    loss: value('kind', 'behavioral-mse, behavioral-kl, mse or cross-entropy (mnist labels)', choice(LLC_LOSSES), { default: 'behavioral-mse' }),
    step: value(
      'eps',
      'SGLD step size ε (default: 3e-4 for cross-entropy, the largest settled step on MNIST MLPs with the defaults below, see packages/degeneracy/bench/mnist.ts; 1e-5 for the MSE losses, not calibrated: check the diagnosis)',
      num({ gt: 0 }),
    ),
    gamma: value('g', 'localisation strength', num({ ge: 0 }), { default: 100 }),
    nBeta: value('nb', 'n·β (default n / log n)', num({ gt: 0 })),
    chains: value('k', 'chains', int(1), { default: 4 }),
    draws: value('k', 'draws per chain', int(1), { default: 1000 }),
    burnin: value('k', 'burn-in steps per chain', int(0), { default: 200 }),
    batchSize: value('b', 'minibatch size (the full data when it has fewer rows)', int(1), { default: 512 }),
    hessianN: value('k', 'also compute the GGN Hessian-rank lower bound on k inputs (small models)', int(0), { default: 0 }),
    out: value('dir', 'folder for llc.json, the loss traces per chain (llc-traces.csv), their plot (llc-traces.svg) and its Vega-Lite spec (llc-traces.vl.json)', text()),
  },
  examples: ['basis llc runs/mlp/seed-0 --data mnist:1000 --batch-size 256 --out llc/'],
  run: async (ctx, a, o) => {
    const { runLlc } = await import('../commands/degeneracy.js');
    const { loadModel } = await import('@basis/zoo/node');
    const { step, nBeta, out, ...rest } = o;
    await runLlc(ctx, a['model'] as string, { load: loadModel, ...rest, ...(step === undefined ? {} : { step }), ...(nBeta === undefined ? {} : { nBeta }), ...(out === undefined ? {} : { out }) });
  },
});

const exportCommand = command({
  name: 'export',
  args: args('<model>'),
  summary: 'Write a model (checkpoint or run directory, .onnx, or a bare .pt/.safetensors with --arch) as ONNX (opset 13: ONNX Runtime, Netron), a PyTorch state_dict or safetensors',
  options: {
    format: value('format', 'onnx, pt or safetensors', choice(['onnx', 'pt', 'safetensors']), { default: 'onnx' }),
    out: value('file', "output file (default: MODEL's name with the format's extension, in the current folder); written atomically", text()),
    ...modelOptions({ arch: ARCH_HELP, keyMap: "with --arch: rename the file's keys, 'regex=replacement' ('' drops a key)" }),
  },
  examples: ['basis export runs/mlp/seed-0 --format onnx --out mlp.onnx', 'basis export runs/aligned --format pt --out aligned.pt   # load_state_dict(strict=True) in PyTorch', 'basis export model.onnx --format safetensors'],
  engineNotice: false,
  run: async (ctx, a, o) => {
    const { modelArgsOf } = await import('../commands/model-args.js');
    const { runExport } = await import('../commands/export.js');
    await runExport(ctx, a['model'] as string, { margs: modelArgsOf(o), format: o.format, ...(o.out === undefined ? {} : { out: o.out }) });
  },
});

/** Every command, in `basis --help` order. */
export const COMMANDS: readonly AnyCommand[] = [
  info,
  demo,
  reproduce,
  worker,
  queue,
  compare,
  train,
  evalCommand,
  activations,
  symmetry,
  interpolate,
  match,
  llfcCommand,
  stitchCommand,
  degeneracy,
  interactionBasis,
  llc,
  exportCommand,
];
