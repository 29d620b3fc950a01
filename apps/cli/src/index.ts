import { readFileSync } from 'node:fs';
import { cac } from 'cac';
import { listMetrics } from '@basis/align';
import { isBasisError } from '@basis/tensor';
import { makeContext, type CommandContext, type GlobalOptions, type Io } from './context.js';

/** The CLI's version (that of the @basis/cli package). */
export const CLI_VERSION: string = (
  JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }
).version;

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
  return {
    backend: backend as GlobalOptions['backend'],
    seed,
    json: raw['json'] === true,
    quiet: raw['quiet'] === true,
  };
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
  const cli = cac('basis');
  for (const o of GLOBAL_OPTIONS) cli.option(o.flags, o.description, o.default === undefined ? undefined : { default: o.default });
  cli.help();
  cli.version(CLI_VERSION);

  let ctx: CommandContext | undefined;
  const context = (raw: Record<string, unknown>): CommandContext => (ctx = makeContext(globalOptions(raw), io));

  cli
    .command('info', 'Show versions, the active tfjs backend, threads and which optional backends load')
    .example('basis info --json')
    .action(async (raw: Record<string, unknown>) => {
      const { runInfo } = await import('./commands/info.js');
      await runInfo(context(raw));
    });

  cli
    .command('demo', 'The main job: train two MNIST MLPs, verify their symmetry spec, audit them with every metric, measure LMC before/after matching and LLFC, write an HTML report')
    .option('--out <dir>', 'folder for report.html, result.json and figures/', { default: 'basis-demo' })
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
    .command('compare <a> <b>', 'Compare two activation matrices (rows = the same inputs, columns = units)')
    .option('--metric <ids>', `comma-separated metric ids (default: all): ${listMetrics().map((d) => d.id).join(', ')}`)
    .option('--options <json>', `metric options as JSON, e.g. '{"knn.mutual":{"k":5},"linear.cv":{"folds":10}}'`)
    .option('--layers', 'A and B are folders with one .npy per layer: compare every layer pair')
    .option('--out <dir>', 'with --layers: folder for audit.json, <metric>.csv and <metric>.html', { default: 'basis-compare' })
    .example('basis compare layer3_a.npy layer3_b.npy --metric cka.linear,procrustes.similarity')
    .example('basis compare --layers acts/seed0 acts/seed1 --metric cka.linear --out audit/')
    .example('basis compare model_a.safetensors:blocks.2 model_b.npz:acts --json')
    .action(async (a: string, b: string, raw: Record<string, unknown>) => {
      const metric = raw['metric'] === undefined ? undefined : String(raw['metric']);
      const options = parseOptions(raw['options']);
      if (raw['layers'] === true) {
        const { runCompareLayers } = await import('./commands/layers.js');
        await runCompareLayers(context(raw), a, b, { metric, out: String(raw['out']), options });
        return;
      }
      const { runCompare } = await import('./commands/compare.js');
      await runCompare(context(raw), a, b, { metric, options });
    });

  cli
    .command('symmetry <action>', 'Intertwiner groups: `table` (computed activation/group table) or `probe --fn "x => ..."` (classify an activation)')
    .option('--fn <src>', 'with probe: the activation as a JS function or expression in x, or a registry id (relu, tanh, leaky_relu, ...)')
    .option('--n <units>', 'number of units of the random group elements', { default: 4 })
    .option('--slope <a>', 'with probe --fn leaky_relu: the negative slope')
    .option('--degree <d>', 'with probe --fn polynomial: the degree')
    .example('basis symmetry table')
    .example('basis symmetry probe --fn "x => x / (1 + Math.exp(-x))"')
    .example('basis symmetry probe --fn leaky_relu --slope 1 --json')
    .action(async (action: string, raw: Record<string, unknown>) => {
      const { runSymmetry } = await import('./commands/symmetry.js');
      await runSymmetry(context(raw), action, {
        n: Number(raw['n']),
        ...(raw['fn'] === undefined ? {} : { fn: String(raw['fn']) }),
        ...(raw['slope'] === undefined ? {} : { slope: Number(raw['slope']) }),
        ...(raw['degree'] === undefined ? {} : { degree: Number(raw['degree']) }),
      });
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
    return EXIT.ok;
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
