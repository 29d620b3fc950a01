import { cac } from 'cac';
import { listMetrics } from '@basis/align';
import { configureEngine, isBasisError, parseThreads } from '@basis/tensor';
import { setLockNoticeHandler } from '@basis/tensor/node';
import { maskQueueArgv } from './commands/queue.js';
import { makeContext, type CommandContext, type GlobalOptions, type Io } from './context.js';
import { fallbackNotice } from './engine.js';
import { CLI_VERSION } from './version.js';

export { CLI_VERSION } from './version.js';

/** Exit codes: 0 success, 1 runtime error, 2 usage error. */
export const EXIT = { ok: 0, runtime: 1, usage: 2 } as const;

class UsageError extends Error {}

const BACKENDS = ['auto', 'tensorflow', 'wasm', 'cpu'] as const;

/** One global option, declared as data so help, docs and tests share it. */
export interface OptionSpec {
  flags: string;
  description: string;
  default?: string | number | boolean;
}

/** Global options understood by every command. */
export const GLOBAL_OPTIONS: readonly OptionSpec[] = [
  { flags: '--backend <name>', description: 'tfjs backend: auto (tensorflow > wasm > cpu), tensorflow, wasm or cpu', default: 'auto' },
  { flags: '--seed <n>', description: 'seed for every random draw', default: 0 },
  {
    flags: '--threads <n>',
    description: 'threads of the compute engine (system BLAS/LAPACK): a number or all (default: BASIS_THREADS, else every core; worker pools share them, one per worker when they run several jobs)',
  },
  { flags: '--json', description: 'print a machine-readable result on stdout and nothing else there' },
  { flags: '--quiet', description: 'no progress or informational messages on stderr' },
];

/** Parses `--options` JSON: an object mapping metric ids to option objects. */
function parseOptions(raw: unknown): Record<string, Record<string, unknown>> {
  if (raw === undefined) return {};
  let v: unknown;
  try {
    v = JSON.parse(String(raw));
  } catch (e) {
    throw new UsageError(`--options is not valid JSON (${(e as Error).message})`);
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v) || Object.values(v).some((o) => typeof o !== 'object' || o === null || Array.isArray(o))) {
    throw new UsageError(`--options must map metric ids to option objects, e.g. '{"knn.mutual":{"k":5}}'`);
  }
  return v as Record<string, Record<string, unknown>>;
}

/** A repeatable flag's values (cac gives one value or an array), undefined when absent. */
function repeated(raw: Record<string, unknown>, key: string, flag: string, example: string): string[] | undefined {
  const v = raw[key];
  if (v === undefined) return undefined;
  const all = Array.isArray(v) ? (v as unknown[]) : [v];
  if (all.some((x) => typeof x === 'boolean')) throw new UsageError(`${flag} needs a value, e.g. ${flag} ${example}`);
  return all.map(String);
}

/** `--key-map` rules, for the commands that read bare .pt/.safetensors files. */
const keyMapOf = (raw: Record<string, unknown>): { keyMap?: string[] } => {
  const k = repeated(raw, 'keyMap', '--key-map', "'^backbone\\.=layers.'");
  return k === undefined ? {} : { keyMap: k };
};

/** The given flags as strings (cac turns numeric-looking values into numbers), absent ones left out. */
function strings<K extends string>(raw: Record<string, unknown>, keys: readonly K[]): Partial<Record<K, string>> {
  const out: Partial<Record<K, string>> = {};
  for (const k of keys) {
    const v = raw[k];
    if (v === undefined) continue;
    if (Array.isArray(v)) throw new UsageError(`--${k.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)} was given more than once`);
    if (typeof v === 'boolean') throw new UsageError(`--${k.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)} needs a value`);
    out[k] = String(v);
  }
  return out;
}

function globalOptions(raw: Record<string, unknown>): GlobalOptions {
  const backend = String(raw['backend'] ?? 'auto');
  if (!(BACKENDS as readonly string[]).includes(backend)) {
    throw new UsageError(`--backend must be one of ${BACKENDS.join(', ')}, got '${backend}'`);
  }
  const seedRaw = raw['seed'] ?? 0;
  const seed = Number(seedRaw);
  if (!Number.isSafeInteger(seed) || seed < 0) {
    throw new UsageError(`--seed must be a non-negative integer, got '${String(seedRaw)}'`);
  }
  let threads: number | undefined;
  const threadsRaw = raw['threads'];
  if (threadsRaw !== undefined) {
    if (Array.isArray(threadsRaw)) throw new UsageError('--threads was given more than once');
    if (typeof threadsRaw === 'boolean') throw new UsageError('--threads needs a value: a number of threads or all');
    try {
      threads = parseThreads(String(threadsRaw), '--threads');
    } catch (e) {
      throw new UsageError(e instanceof Error ? e.message : String(e));
    }
  }
  return {
    backend: backend as GlobalOptions['backend'],
    seed,
    json: raw['json'] === true,
    quiet: raw['quiet'] === true,
    ...(threads === undefined ? {} : { threads }),
  };
}

/**
 * Applies the engine flags and, when the engine falls back to WebAssembly for want of a system
 * BLAS/LAPACK, prints one informational line on stderr (not under --quiet or --json, and not
 * when BASIS_BLAS=off asked for it; `basis info` shows the engine itself).
 */
function setUpEngine(ctx: CommandContext, notice: boolean): void {
  if (ctx.options.threads !== undefined) configureEngine({ threads: ctx.options.threads });
  if (!notice || ctx.options.json || ctx.options.quiet) return;
  const line = fallbackNotice();
  if (line !== null) ctx.io.stderr.write(line + '\n');
}

/**
 * Runs the `basis` command line with `argv` (without the node and script paths) and resolves to
 * the exit code. Never calls `process.exit`, so it can be tested in-process.
 *
 * @example
 * ```ts
 * import { main } from '@basis/cli';
 * const code = await main(['info', '--json']);
 * ```
 */
export async function main(argv: string[], io: Io = { stdout: process.stdout, stderr: process.stderr }): Promise<number> {
  // a password in a --queue URL must not reach lock files (they record process.argv) nor the errors
  // that echo a lock holder's command line; `argv` (already copied) keeps it for the connection
  maskQueueArgv(process.argv);
  const cli = cac('basis');
  for (const o of GLOBAL_OPTIONS) cli.option(o.flags, o.description, o.default === undefined ? undefined : { default: o.default });
  cli.help();
  cli.version(CLI_VERSION);

  let ctx: CommandContext | undefined;
  let exitCode: number = EXIT.ok;
  const context = (raw: Record<string, unknown>, notice = true): CommandContext => {
    ctx = makeContext(globalOptions(raw), io);
    const c = ctx;
    // a stale lock of a dead process taken over: one line, like other notices (none under --quiet)
    setLockNoticeHandler((line) => c.info(`basis: ${line}`));
    setUpEngine(ctx, notice);
    return ctx;
  };

  cli
    .command('info', 'Show versions, the compute engine (system BLAS/LAPACK or WebAssembly, library, core type, threads), the active tfjs backend and which optional backends load')
    .example('basis info --json')
    .action(async (raw: Record<string, unknown>) => {
      const { runInfo } = await import('./commands/info.js');
      await runInfo(context(raw, false));
    });

  cli
    .command('demo', 'The main job: train two MNIST MLPs, verify their symmetry spec, audit them with every metric, measure LMC before/after matching and LLFC, write an HTML report')
    .option('--out <dir>', 'folder for report.html, result.json and figures/ (locked while written: a second writer fails at once naming the first)', { default: 'basis-demo' })
    .option('--quick', 'a smaller, faster profile (width 128, 2 epochs, 500 audit inputs)')
    .option('--width <n>', 'hidden width of the two MLPs (default 512; quick 128)')
    .option('--epochs <n>', 'training epochs (default 10, the mlpMnist recipe; quick 2)')
    .example('basis demo --out basis-demo')
    .example('basis demo --quick --json')
    .action(async (raw: Record<string, unknown>) => {
      const { runDemoCommand } = await import('./commands/demo.js');
      await runDemoCommand(context(raw), { out: String(raw['out']), quick: raw['quick'] === true, width: raw['width'], epochs: raw['epochs'] });
    });

  cli
    .command('reproduce [id]', 'Reproduce an experiment of the seed papers (E000-1 ... V001-4, or all) with a cached, resumable run; writes report.html with claim, paper, measured and verdict')
    .option('--quick', 'the quick profile (tiny models, about a minute per experiment on 2 cores; too small to decide a claim); same as --profile quick')
    .option('--profile <name>', "quick, standard (models trained to their plateau, >= 5 seeds, <= 30 min per experiment on 2 cores: the gallery's profile) or full (default)")
    .option('--list', 'list the experiment ids and exit (with --profile or --quick: the estimated run time of each)')
    .option('--out <dir>', 'output folder (default basis-reproduce/<id>; for all: basis-reproduce, one folder per experiment); locked while written, a second writer fails at once naming the first')
    .option('--config <file>', 'JSON or YAML file overriding the profile (or { experiment, profile, seed, config })')
    .option('--cache <dir>', 'run cache of trained models and results (default: a cache/ folder beside OUT for one experiment, OUT/cache for all); runs may share it: a model another process is training is waited for, then reused')
    .option('--workers <n>', 'training worker threads (default: the thread budget, --threads; each gets an equal share of the BLAS threads)')
    .option('--queue [url]', "run the expensive stages on 'basis worker' processes (any number of machines) through this Redis queue: training (a train job per model), activation captures and the comparisons a recipe declares (a capture job per model and input set, a compare job per pair, enqueued once what they read exists); same results as a local run. redis://HOST:PORT, rediss://USER:PASSWORD@HOST:PORT, env:NAME (the URL is in that environment variable), or no value for BASIS_QUEUE; --cache must then be a folder every worker sees at the same path. Credentials are never printed")
    .option('--queue-name <name>', 'with --queue: the queue to use (default basis; workers need the same --name)')
    .example('basis reproduce --list')
    .example('basis reproduce E000-1 --quick')
    .example('basis reproduce all --quick --out reproduce/')
    .example('basis reproduce all --profile standard --out reproduce/   # also writes reproduce/index.html')
    .example('basis reproduce E002-1 --config widths.yaml')
    .example('basis reproduce all --profile standard --cache /shared/basis-cache --queue env:BASIS_QUEUE_URL')
    .action(async (id: string | undefined, raw: Record<string, unknown>) => {
      const { runReproduce } = await import('./commands/reproduce.js');
      const { queueFlag } = await import('./commands/queue.js');
      const queue = queueFlag(raw['queue']);
      exitCode = await runReproduce(context(raw), id === undefined ? undefined : String(id), {
        ...strings(raw, ['out', 'config', 'cache', 'workers', 'profile', 'queueName']),
        ...(queue === undefined ? {} : { queue }),
        quick: raw['quick'] === true,
        list: raw['list'] === true,
      });
    });

  cli
    .command('worker', 'Run queued jobs (models, captures and comparisons of basis reproduce --queue; seeds of basis train --queue; audit rows of basis compare --layers --queue) until stopped: start one per machine or core group; SIGTERM lets the running job finish, a second SIGTERM releases it back to the queue')
    .option('--queue [url]', 'the Redis queue: redis://HOST:PORT, rediss://USER:PASSWORD@HOST:PORT, env:NAME, or no value for BASIS_QUEUE (never printed with its password)')
    .option('--name <queue>', 'queue name (default basis)')
    .option('--concurrency <n>', 'jobs at once in this process, each on its own worker thread (default 1; give each an equal share of the cores with --threads)')
    .option('--lock <seconds>', "how long a job's lock lasts without renewal: a worker killed mid-job holds its job this long, then another worker takes it over (default 30)")
    .example('basis worker --queue redis://10.0.0.5:6379 --concurrency 2')
    .example('BASIS_QUEUE_URL=rediss://basis:PASSWORD@10.0.0.5:6380 basis worker --queue env:BASIS_QUEUE_URL')
    .action(async (raw: Record<string, unknown>) => {
      const { queueFlag, runWorkerCommand } = await import('./commands/queue.js');
      const queue = queueFlag(raw['queue']);
      exitCode = await runWorkerCommand(context(raw), { ...strings(raw, ['name', 'concurrency', 'lock']), ...(queue === undefined ? {} : { queue }) });
    });

  cli
    .command('queue <action>', 'The job queue: status (jobs per kind and state, workers, failures), retry (failed jobs back into the queue) or clear (remove its jobs; models in the store stay)')
    .option('--queue [url]', 'the Redis queue: redis://HOST:PORT, rediss://USER:PASSWORD@HOST:PORT, env:NAME, or no value for BASIS_QUEUE')
    .option('--name <queue>', 'queue name (default basis)')
    .option('--force', 'with clear: also remove jobs that are running')
    .example('basis queue status --queue redis://10.0.0.5:6379')
    .example('basis queue retry --queue env:BASIS_QUEUE_URL')
    .example('basis queue clear --queue redis://10.0.0.5:6379 --force')
    .action(async (action: string, raw: Record<string, unknown>) => {
      const { queueFlag, runQueueCommand } = await import('./commands/queue.js');
      const queue = queueFlag(raw['queue']);
      exitCode = await runQueueCommand(context(raw, false), String(action), { ...strings(raw, ['name']), ...(queue === undefined ? {} : { queue }), force: raw['force'] === true });
    });

  cli
    .command('compare [a] [b]', 'Compare two activation matrices (rows = the same inputs, columns = units); --list shows the metrics')
    .option('--list', 'print the metric registry (id, family, kind, invariances, cost class, options) and exit')
    .option('--metric <ids>', `comma-separated metric ids or aliases (default: all): ${listMetrics().map((d) => d.id).join(', ')}`)
    .option('--options <json>', `metric options as JSON, e.g. '{"knn.mutual":{"k":5},"linear.cv":{"folds":10}}'`)
    .option('--layers', 'A and B are folders with one .npy per layer: compare every layer pair')
    .option('--queue [url]', "with --layers: compute the rows (one per layer of A) on 'basis worker' processes through this Redis queue (redis://HOST:PORT, rediss://…, env:NAME, or no value for BASIS_QUEUE); the layer folders and --out must be on a filesystem the workers share")
    .option('--queue-name <name>', 'with --queue: the queue to use (default basis)')
    .option('--out <dir>', 'with --layers: folder for audit.json, <metric>.csv and <metric>.html (locked while written)', { default: 'basis-compare' })
    .option(
      '--max-memory <size>',
      'refuse to start when the estimated peak memory exceeds this (e.g. 8G, 512M, 75% of this machine, none; default 50% of its memory); time and memory are estimated from the shapes before any metric runs',
    )
    .example('basis compare layer3_a.npy layer3_b.npy --metric cka.linear,procrustes.similarity')
    .example('basis compare --list')
    .example('basis compare big_a.npy big_b.npy --max-memory 20G')
    .example('basis compare --layers acts/seed0 acts/seed1 --metric cka.linear --out audit/')
    .example('basis compare --layers /shared/acts/s0 /shared/acts/s1 --out /shared/audit --queue env:BASIS_QUEUE_URL')
    .example('basis compare model_a.safetensors:blocks.2 model_b.npz:acts --json')
    .action(async (a: string | undefined, b: string | undefined, raw: Record<string, unknown>) => {
      if (raw['list'] === true) {
        if (a !== undefined) throw new UsageError('--list takes no inputs: basis compare --list');
        const { runCompareList } = await import('./commands/compare.js');
        runCompareList(context(raw));
        return;
      }
      if (a === undefined || b === undefined) throw new UsageError('compare needs two inputs A and B (basis compare A B), or --list to see the metrics');
      const metric = raw['metric'] === undefined ? undefined : String(raw['metric']);
      const options = parseOptions(raw['options']);
      if (raw['layers'] === true) {
        const { runCompareLayers } = await import('./commands/layers.js');
        const { queueFlag } = await import('./commands/queue.js');
        const queue = queueFlag(raw['queue']);
        await runCompareLayers(context(raw), a, b, { metric, out: String(raw['out']), options, ...strings(raw, ['maxMemory', 'queueName']), ...(queue === undefined ? {} : { queue }) });
        return;
      }
      const { runCompare } = await import('./commands/compare.js');
      await runCompare(context(raw), a, b, { metric, options, ...strings(raw, ['maxMemory']) });
    });

  cli
    .command('train', 'Train models (one per seed, in parallel on worker threads) into run directories with checkpoints')
    .option('--config <file>', 'JSON config { model, data, train, seeds, spawnSteps } (flags override its fields)')
    .option('--arch <name>', 'architecture: mlp, resmlp, minimyrtle, resnet, cnn or transformer (default mlp; the transformer needs --data modadd)')
    .option('--width <n>', 'mlp: hidden width, or one per layer (64,32); resnet: width multiplier k, or stage widths (8,16); cnn: conv widths (32,64); resmlp: hidden width; minimyrtle: channels c; transformer: model width')
    .option('--depth <n>', 'mlp: hidden layers; resmlp: blocks; resnet: blocks per stage; transformer: layers')
    .option('--activation <fn>', 'hidden activation (relu, leaky_relu, tanh, gelu, ...)')
    .option('--dataset <name>', 'mnist (10k digits, 8k/2k split) or fashion (60k/10k); see --data for the others')
    .option(
      '--data <spec>',
      'data: mnist | fashion | idx:DIR (the 4 standard MNIST-layout files) | idx:TRAIN_IMAGES,TRAIN_LABELS[,TEST_IMAGES,TEST_LABELS] (IDX, optionally .gz; ' +
        'without test files 20% is held out; add source=fashion-mnist|idx, testFraction=) | modadd[:p=97,trainFraction=0.3,encoding=tokens|onehot] ' +
        '(modular addition; tokens for the transformer, one-hot otherwise) | gaussian[:n=2000,classes=3,dim=10,separation=3,std=1]',
    )
    .option('--train-size <n>', 'class-balanced training subset')
    .option('--test-size <n>', 'class-balanced test subset')
    .option('--epochs <n>', 'epochs')
    .option('--batch-size <n>', 'batch size')
    .option('--optimizer <kind>', 'sgd (momentum 0.9, Nesterov), adam or adamw')
    .option('--lr <x>', 'learning rate (cosine decay unless the config says otherwise)')
    .option('--weight-decay <x>', 'weight decay')
    .option('--checkpoints <fractions>', 'extra checkpoints at these epoch fractions, e.g. 0,0.1,0.25,0.5 (every epoch is saved too)')
    .option('--seeds <list>', 'comma-separated seeds, trained in parallel (default: --seed)')
    .option('--workers <n>', 'worker threads for several seeds (default: the thread budget, --threads, at most one per seed; each gets an equal share of the BLAS threads)')
    .option('--spawn-steps <k>', 'spawning: train one shared trunk (OUT/trunk, seed --seed) for k steps, then fork it into the --seeds (same weights at step k, own data order after)')
    .option('--out <dir>', 'output folder: one run directory per seed (OUT/seed-S) and train.json; locked while training (a second basis train into OUT fails at once naming the first; a lock left by a dead process is taken over)', { default: 'basis-runs' })
    .option('--resume', 'continue interrupted runs in OUT from their latest checkpoints')
    .option('--queue [url]', "train the seeds on 'basis worker' processes through this Redis queue (redis://HOST:PORT, rediss://…, env:NAME, or no value for BASIS_QUEUE); OUT must be a folder every worker sees at the same path; not with --spawn-steps")
    .option('--queue-name <name>', 'with --queue: the queue to use (default basis)')
    .example('basis train --arch mlp --width 512 --depth 2 --dataset mnist --seeds 0,1 --out runs/mlp')
    .example('basis train --arch minimyrtle --width 16 --dataset fashion --epochs 3 --out runs/cnn')
    .example('basis train --arch mlp --width 64,32 --dataset mnist --out runs/mlp-64-32')
    .example('basis train --config train.json --resume')
    .example('basis train --data idx:train-images-idx3-ubyte.gz,train-labels-idx1-ubyte.gz,t10k-images-idx3-ubyte.gz,t10k-labels-idx1-ubyte.gz --out runs/idx')
    .example('basis train --arch transformer --width 64 --data modadd:p=59 --epochs 20 --out runs/grok')
    .example('basis train --seeds 1,2,3 --spawn-steps 100 --out runs/spawned')
    .example('basis train --seeds 0,1,2,3,4,5,6,7 --out /shared/runs/mlp --queue env:BASIS_QUEUE_URL')
    .action(async (raw: Record<string, unknown>) => {
      const { runTrain } = await import('./commands/train.js');
      const { queueFlag } = await import('./commands/queue.js');
      const queue = queueFlag(raw['queue']);
      exitCode = await runTrain(context(raw), {
        ...strings(raw, ['config', 'arch', 'width', 'depth', 'activation', 'dataset', 'data', 'trainSize', 'testSize', 'epochs', 'batchSize', 'optimizer', 'lr', 'weightDecay', 'checkpoints', 'seeds', 'workers', 'spawnSteps', 'queueName']),
        ...(queue === undefined ? {} : { queue }),
        out: String(raw['out']),
        resume: raw['resume'] === true,
      });
    });

  cli
    .command('eval <model>', 'Accuracy and loss of a trained model on its test set and on out-of-distribution conditions')
    .option('--dataset <name>', 'mnist or fashion (default: the dataset the model was trained on)')
    .option('--ood <conditions>', 'comma-separated OOD conditions, or all (noise-0.2, rotate-30, invert, blur-1, elastic-mild, cross-dataset, ...)')
    .option('--n <count>', 'only the first N test examples')
    .option('--batch-size <n>', 'examples per forward pass', { default: 1000 })
    .option('--arch <name>', 'architecture of a bare .safetensors/.pt MODEL: mlp, resmlp, minimyrtle, resnet or cnn (with --width, --depth)')
    .option('--width <n>', 'with --arch: one width, or a list for mlp (hidden layers, 64,32), resnet (stages, 8,16) and cnn (conv blocks, 32,64)')
    .option('--depth <n>', 'with --arch: mlp hidden layers, resmlp blocks, resnet blocks per stage')
    .option('--key-map <rule>', "with --arch: rename the file's keys, 'regex=replacement' (repeatable; '' drops a key); unmatched names are mapped by module order and shapes")
    .example('basis eval runs/mlp/seed-0')
    .example('basis eval runs/mlp/seed-0 --ood all --json')
    .example('basis eval mlp.pt --arch mlp --width 512 --depth 2')
    .example('basis eval sequential.pt --arch mlp --width 64,32')
    .example('basis eval model.onnx   # torch.onnx.export: the graph comes with the file, no --arch')
    .action(async (model: string, raw: Record<string, unknown>) => {
      const { runEval } = await import('./commands/eval.js');
      await runEval(context(raw), model, { ...strings(raw, ['dataset', 'ood', 'n', 'batchSize', 'arch', 'width', 'depth']), ...keyMapOf(raw) });
    });

  cli
    .command('activations <model>', 'Capture activations of a trained model on test inputs: one .npy per capture point, for compare --layers')
    .option('--out <dir>', 'output folder', { default: 'basis-activations' })
    .option('--points <names>', 'comma-separated capture points (node names), or all (default: every activation and the output)')
    .option('--view <view>', 'conv feature maps: pooled (spatial mean, N x C), channel (rows = inputs x positions) or flat (N x C·H·W)', { default: 'pooled' })
    .option('--n <count>', 'number of test inputs', { default: 1000 })
    .option('--max-rows <n>', 'channel view: keep at most this many rows, drawn by --seed (the same rows for every model)')
    .option('--dataset <name>', 'mnist or fashion (default: the dataset the model was trained on)')
    .option('--arch <name>', 'architecture of a bare .safetensors/.pt MODEL: mlp, resmlp, minimyrtle, resnet or cnn (with --width, --depth)')
    .option('--width <n>', 'with --arch: one width, or a list for mlp (hidden layers, 64,32), resnet (stages, 8,16) and cnn (conv blocks, 32,64)')
    .option('--depth <n>', 'with --arch: mlp hidden layers, resmlp blocks, resnet blocks per stage')
    .option('--key-map <rule>', "with --arch: rename the file's keys, 'regex=replacement' (repeatable; '' drops a key); unmatched names are mapped by module order and shapes")
    .example('basis activations runs/mlp/seed-0 --out acts/seed0 --n 2000')
    .example('basis compare --layers acts/seed0 acts/seed1 --metric cka.linear')
    .action(async (model: string, raw: Record<string, unknown>) => {
      const { runActivations } = await import('./commands/activations.js');
      await runActivations(context(raw), model, {
        ...strings(raw, ['points', 'maxRows', 'dataset', 'arch', 'width', 'depth']),
        ...keyMapOf(raw),
        out: String(raw['out']),
        view: String(raw['view']),
        n: String(raw['n']),
      });
    });

  cli
    .command('symmetry <action> [model]', 'Symmetries: `table`, `probe --fn "x => ..."`, `check MODEL` (infer and verify the spec) or `apply MODEL --out DIR` (random group element)')
    .option('--fn <src>', 'with probe: the activation as a JS function or expression in x, or a registry id (relu, tanh, leaky_relu, ...)')
    .option('--n <units>', 'with table/probe: number of units of the random group elements', { default: 4 })
    .option('--slope <a>', 'with probe --fn leaky_relu: the negative slope')
    .option('--degree <d>', 'with probe --fn polynomial: the degree')
    .option('--out <dir>', 'with apply: where to write the transformed model')
    .option('--inputs <k>', 'with check/apply: test inputs to run the model on', { default: 64 })
    .option('--tol <x>', 'with check: relative tolerance (float32)', { default: 1e-5 })
    .option('--trials <k>', 'with check: random elements per group', { default: 2 })
    .option('--scale-sigma <s>', 'with check/apply: log-scale spread of random positive scales', { default: 0.5 })
    .option('--dataset <name>', 'with check/apply: mnist or fashion (default: the dataset the model was trained on)')
    .option('--arch <name>', 'with check/apply: architecture of a bare .safetensors/.pt MODEL: mlp, resmlp, minimyrtle, resnet or cnn (with --width, --depth)')
    .option('--width <n>', 'with --arch: one width, or a list for mlp (hidden layers, 64,32), resnet (stages, 8,16) and cnn (conv blocks, 32,64)')
    .option('--depth <n>', 'with --arch: mlp hidden layers, resmlp blocks, resnet blocks per stage')
    .option('--key-map <rule>', "with --arch: rename the file's keys, 'regex=replacement' (repeatable; '' drops a key); unmatched names are mapped by module order and shapes")
    .example('basis symmetry table')
    .example('basis symmetry probe --fn "x => x / (1 + Math.exp(-x))"')
    .example('basis symmetry probe --fn leaky_relu --slope 1 --json')
    .example('basis symmetry check runs/mlp/seed-0')
    .example('basis symmetry check model.pt --arch resnet --width 8,16 --depth 1')
    .example('basis symmetry check model.onnx')
    .example('basis symmetry apply runs/mlp/seed-0 --out runs/mlp/seed-0-permuted --seed 3')
    .action(async (action: string, model: string | undefined, raw: Record<string, unknown>) => {
      const { runSymmetry } = await import('./commands/symmetry.js');
      await runSymmetry(context(raw), action, {
        n: Number(raw['n']),
        ...(raw['fn'] === undefined ? {} : { fn: String(raw['fn']) }),
        ...(raw['slope'] === undefined ? {} : { slope: Number(raw['slope']) }),
        ...(raw['degree'] === undefined ? {} : { degree: Number(raw['degree']) }),
        ...(model === undefined ? {} : { model }),
        ...strings(raw, ['out', 'inputs', 'tol', 'trials', 'scaleSigma', 'dataset', 'arch', 'width', 'depth']),
        ...keyMapOf(raw),
      });
    });

  const pairFlags = (c: ReturnType<typeof cli.command>) =>
    c
      .option('--dataset <name>', 'mnist or fashion (default: the dataset A was trained on)')
      .option('--n <k>', 'test inputs to evaluate (default: the whole test split)')
      .option('--out <dir>', 'folder for JSON, CSV, SVG and HTML results')
      .option('--arch <name>', 'architecture of bare .safetensors/.pt files A and B: mlp, resmlp, minimyrtle, resnet or cnn (with --width, --depth; checkpoint folders ignore it)')
      .option('--width <n>', 'with --arch: one width, or a list for mlp (hidden layers, 64,32), resnet (stages, 8,16) and cnn (conv blocks, 32,64)')
      .option('--depth <n>', 'with --arch: mlp hidden layers, resmlp blocks, resnet blocks per stage')
      .option('--key-map <rule>', "with --arch: rename the files' keys, 'regex=replacement' (repeatable; '' drops a key); unmatched names are mapped by module order and shapes");
  const pairOpts = (raw: Record<string, unknown>) => ({
    ...strings(raw, ['arch', 'width', 'depth']),
    ...keyMapOf(raw),
    ...(raw['dataset'] === undefined ? {} : { dataset: String(raw['dataset']) }),
    ...(raw['n'] === undefined ? {} : { n: Number(raw['n']) }),
    ...(raw['out'] === undefined ? {} : { out: String(raw['out']) }),
  });

  pairFlags(cli.command('interpolate <a> <b>', 'Loss and error along the linear path between two models (barriers: max−mean and max−linear), optionally after matching'))
    .option('--match <method>', 'none, weight, activation or sinkhorn', { default: 'weight' })
    .option('--points <k>', 'λ grid size', { default: 11 })
    .option('--repair <mode>', 'none, bn-reset or repair (default: bn-reset for batchnorm models)')
    .example('basis interpolate runs/mlp/seed-0 runs/mlp/seed-1 --match weight --out lmc/')
    .action(async (a: string, b: string, raw: Record<string, unknown>) => {
      const { runInterpolate } = await import('./commands/connectivity.js');
      await runInterpolate(context(raw), a, b, { ...pairOpts(raw), match: String(raw['match']), points: Number(raw['points']), ...(raw['repair'] === undefined ? {} : { repair: String(raw['repair']) }) });
    });

  pairFlags(cli.command('match <a> <b>', "Align B's units to A's through the inferred symmetry spec and write the aligned copy of B"))
    .option('--method <m>', 'weight (coordinate descent, modulo G_ReLU), activation (feature correlations) or sinkhorn', { default: 'weight' })
    .example('basis match runs/mlp/seed-0 runs/mlp/seed-1 --out runs/mlp/seed-1-aligned')
    .example('basis match a.pt b.pt --arch mlp --width 64,32 --out b-aligned')
    .example('basis match model.onnx runs/permuted --out runs/aligned')
    .action(async (a: string, b: string, raw: Record<string, unknown>) => {
      const { runMatch } = await import('./commands/connectivity.js');
      await runMatch(context(raw), a, b, { ...pairOpts(raw), method: String(raw['method']) });
    });

  pairFlags(cli.command('llfc <a> <b>', 'Layerwise linear feature connectivity, weak additivity and commutativity (S004), before or after matching'))
    .option('--match <method>', 'none, weight, activation or sinkhorn', { default: 'weight' })
    .option('--alphas <list>', 'comma-separated α values', { default: '0.5' })
    .example('basis llfc runs/mlp/seed-0 runs/mlp/seed-1 --match none')
    .action(async (a: string, b: string, raw: Record<string, unknown>) => {
      const { runLlfc } = await import('./commands/connectivity.js');
      await runLlfc(context(raw), a, b, { ...pairOpts(raw), match: String(raw['match']), alphas: String(raw['alphas']).split(',').map(Number) });
    });

  pairFlags(cli.command('stitch <a> <b>', "Stitch A's layers ≤ L to B's layers > L through a trained stitching layer; report the S003 penalty"))
    .option('--layer <name>', 'the cut (a top-level node, e.g. layers.1)')
    .option('--kind <kind>', 'identity, permutation, affine, rank:R or grelu', { default: 'affine' })
    .option('--epochs <k>', 'epochs of stitching-layer training', { default: 5 })
    .example('basis stitch runs/mlp/seed-0 runs/mlp/seed-1 --layer layers.1 --kind grelu')
    .action(async (a: string, b: string, raw: Record<string, unknown>) => {
      if (raw['layer'] === undefined) throw new UsageError('basis stitch needs --layer, e.g. --layer layers.1');
      const { runStitch } = await import('./commands/connectivity.js');
      await runStitch(context(raw), a, b, { ...pairOpts(raw), layer: String(raw['layer']), kind: String(raw['kind']), epochs: Number(raw['epochs']) });
    });

  cli
    .command('degeneracy <model>', 'Degeneracy report per layer (S001): Gram/Jacobian spectra, free directions, firing patterns, interaction bases (non-local and local), modules')
    .option('--data <spec>', 'inputs: mnist[:N] (test digits, normalised as the checkpoint was trained), gaussian[:N] or an array file (.npy, file.npz:key, file.safetensors:name)', { default: 'gaussian:512' })
    .option('--eps <list>', 'comma-separated noise scales for free-direction counts', { default: '1e-6,1e-4,1e-2' })
    .option('--tau <t>', 'approximate-synchronisation threshold (normalised Hamming distance)', { default: 0.01 })
    .option('--out <dir>', 'folder for report.json')
    .example('basis degeneracy runs/mlp/seed-0 --data mnist:1000 --json')
    .action(async (model: string, raw: Record<string, unknown>) => {
      const { runDegeneracy } = await import('./commands/degeneracy.js');
      const { loadModel } = await import('@basis/zoo/node');
      await runDegeneracy(context(raw), model, {
        load: loadModel,
        data: String(raw['data']),
        eps: String(raw['eps']).split(',').map(Number),
        tau: Number(raw['tau']),
        ...(raw['out'] === undefined ? {} : { out: String(raw['out']) }),
      });
    });

  cli
    .command('interaction-basis <model>', 'Interaction basis of every MLP layer (S001 Sec. 6 / App. A) as safetensors')
    .option('--data <spec>', 'inputs: mnist[:N], gaussian[:N] or an array file', { default: 'gaussian:512' })
    .option('--out <dir>', 'folder for interaction-basis.safetensors (float64 C.<layer> = basis, Cpinv.<layer>, edges.<l> = transition between consecutive bases, incoming.<l> = W^l (C^l)⁺) and summary.json', { default: 'basis-interaction-basis' })
    .option('--scaling <s>', "final scaling: 'sqrt' (App. A) or 'inv_sqrt' (Sec. 6)", { default: 'sqrt' })
    .option('--center', 'centre the features and append the constant feature')
    .option('--tol <t>', 'relative eigenvalue cut-off', { default: 1e-6 })
    .option('--variant <v>', "'non-local' (Sec. 6: output Jacobians) or 'local' (LIB, App. A: Jacobians of the next layer's basis)", { default: 'non-local' })
    .example('basis interaction-basis runs/mlp/seed-0 --data mnist:2000 --out ib/')
    .action(async (model: string, raw: Record<string, unknown>) => {
      const scaling = String(raw['scaling']);
      if (scaling !== 'sqrt' && scaling !== 'inv_sqrt') throw new UsageError(`--scaling must be sqrt or inv_sqrt, got '${scaling}'`);
      const variant = String(raw['variant']);
      if (variant !== 'non-local' && variant !== 'local') throw new UsageError(`--variant must be non-local or local, got '${variant}'`);
      const tol = Number(raw['tol']);
      if (!(tol >= 0 && tol < 1)) throw new UsageError(`--tol must be a number in [0, 1), got '${String(raw['tol'])}'`);
      const { runInteractionBasis } = await import('./commands/degeneracy.js');
      const { loadModel } = await import('@basis/zoo/node');
      await runInteractionBasis(context(raw), model, { load: loadModel, data: String(raw['data']), out: String(raw['out']), scaling, center: raw['center'] === true, tol, variant });
    });

  cli
    .command('llc <model>', 'Local learning coefficient by SGLD (behavioral loss by default) with diagnostics')
    .option('--data <spec>', 'inputs: mnist[:N], gaussian[:N] or an array file', { default: 'gaussian:512' })
    .option('--loss <kind>', 'behavioral-mse, behavioral-kl, mse or cross-entropy (mnist labels)', { default: 'behavioral-mse' })
    .option('--step <eps>', 'SGLD step size ε (default: 3e-4 for cross-entropy, the largest settled step on MNIST MLPs with the defaults below, see packages/degeneracy/bench/mnist.ts; 1e-5 for the MSE losses, not calibrated: check the diagnosis)')
    .option('--gamma <g>', 'localisation strength', { default: 100 })
    .option('--n-beta <nb>', 'n·β (default n / log n)')
    .option('--chains <k>', 'chains', { default: 4 })
    .option('--draws <k>', 'draws per chain', { default: 1000 })
    .option('--burnin <k>', 'burn-in steps per chain', { default: 200 })
    .option('--batch-size <b>', 'minibatch size (the full data when it has fewer rows)', { default: 512 })
    .option('--hessian-n <k>', 'also compute the GGN Hessian-rank lower bound on k inputs (small models)', { default: 0 })
    .option('--out <dir>', 'folder for llc.json, the loss traces per chain (llc-traces.csv), their plot (llc-traces.svg) and its Vega-Lite spec (llc-traces.vl.json)')
    .example('basis llc runs/mlp/seed-0 --data mnist:1000 --batch-size 256 --out llc/')
    .action(async (model: string, raw: Record<string, unknown>) => {
      const { runLlc } = await import('./commands/degeneracy.js');
      const { loadModel } = await import('@basis/zoo/node');
      const num = (k: string) => (raw[k] === undefined ? {} : { [k]: Number(raw[k]) });
      await runLlc(context(raw), model, {
        load: loadModel,
        data: String(raw['data']),
        loss: String(raw['loss']) as 'behavioral-mse',
        ...num('step'),
        ...num('gamma'),
        ...num('nBeta'),
        ...num('chains'),
        ...num('draws'),
        ...num('burnin'),
        ...num('batchSize'),
        ...num('hessianN'),
        ...(raw['out'] === undefined ? {} : { out: String(raw['out']) }),
      });
    });

  cli
    .command('export <model>', 'Write a model (checkpoint or run directory, .onnx, or a bare .pt/.safetensors with --arch) as ONNX (opset 13: ONNX Runtime, Netron), a PyTorch state_dict or safetensors')
    .option('--format <format>', 'onnx, pt or safetensors', { default: 'onnx' })
    .option('--out <file>', "output file (default: MODEL's name with the format's extension, in the current folder); written atomically")
    .option('--arch <name>', 'architecture of a bare .safetensors/.pt MODEL: mlp, resmlp, minimyrtle, resnet or cnn (with --width, --depth)')
    .option('--width <n>', 'with --arch: one width, or a list for mlp (hidden layers, 64,32), resnet (stages, 8,16) and cnn (conv blocks, 32,64)')
    .option('--depth <n>', 'with --arch: mlp hidden layers, resmlp blocks, resnet blocks per stage')
    .option('--key-map <rule>', "with --arch: rename the file's keys, 'regex=replacement' (repeatable; '' drops a key)")
    .example('basis export runs/mlp/seed-0 --format onnx --out mlp.onnx')
    .example('basis export runs/aligned --format pt --out aligned.pt   # load_state_dict(strict=True) in PyTorch')
    .example('basis export model.onnx --format safetensors')
    .action(async (model: string, raw: Record<string, unknown>) => {
      const { runExport } = await import('./commands/export.js');
      await runExport(context(raw, false), model, { ...strings(raw, ['format', 'out', 'arch', 'width', 'depth']), ...keyMapOf(raw) });
    });

  try {
    cli.parse(['node', 'basis', ...argv], { run: false });
    if (cli.matchedCommand === undefined) {
      if (cli.options['help'] === true || cli.options['version'] === true) return EXIT.ok;
      if (cli.args.length > 0) {
        throw new UsageError(`unknown command '${String(cli.args[0])}'; run 'basis --help' for the list of commands`);
      }
      cli.outputHelp();
      return EXIT.usage;
    }
    if (cli.options['help'] === true) return EXIT.ok;
    await cli.runMatchedCommand();
    return exitCode;
  } catch (e) {
    return reportError(e, io, ctx?.options.json ?? argv.includes('--json'));
  }
}

function reportError(e: unknown, io: Io, json: boolean): number {
  let code: number;
  let kind: string;
  let message: string;
  // cac signals usage problems (unknown option, missing argument) with errors named CACError
  if (e instanceof UsageError || (e instanceof Error && e.name === 'CACError')) {
    code = EXIT.usage;
    kind = 'USAGE';
    message = e.message;
  } else if (isBasisError(e)) {
    code = e.code === 'USAGE' ? EXIT.usage : EXIT.runtime;
    kind = e.code;
    message = e.message;
  } else {
    code = EXIT.runtime;
    kind = 'INTERNAL';
    message = e instanceof Error ? `${e.message} (this is a bug in basis; please report it)` : String(e);
  }
  const oneLine = message.replace(/\s*\n\s*/g, ' ');
  io.stderr.write(`basis: error [${kind}]: ${oneLine}\n`);
  if (json) io.stdout.write(JSON.stringify({ error: { code: kind, message: oneLine } }) + '\n');
  return code;
}
