import { configureEngine, isBasisError } from '@basis/tensor';
import { setLockNoticeHandler } from '@basis/tensor/node';
import { parseArgv } from './cli/argv.js';
import { COMMANDS, GLOBAL_OPTIONS } from './cli/commands.js';
import { parseOptions, parseOptionsAsync } from './cli/declare.js';
import { renderCommandHelp, renderHelp } from './cli/help.js';
import { maskQueueArgv } from './commands/queue.js';
import { makeContext, type CommandContext, type GlobalOptions, type Io } from './context.js';
import { fallbackNotice } from './engine.js';
import { CLI_VERSION } from './version.js';

export { CLI_VERSION } from './version.js';
export { COMMANDS, GLOBAL_OPTIONS } from './cli/commands.js';
export { renderCommandHelp, renderHelp, optionHelp, optionUsage } from './cli/help.js';
export { usageLine } from './cli/argv.js';
export { flagName, type AnyCommand, type ArgDecl, type CommandDecl, type OptionDecl, type OptionDecls, type OptionKind } from './cli/declare.js';

/** Exit codes: 0 success, 1 runtime error, 2 usage error. */
export const EXIT = { ok: 0, runtime: 1, usage: 2 } as const;

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
 * the exit code. Never calls `process.exit`, so it can be tested in-process. The command is found
 * in the declarations (cli/commands.ts), its flags are parsed once by its schema, its cheap
 * cross-checks run, and only then does it start work.
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
  let json = argv.includes('--json');
  try {
    const parsed = parseArgv(argv, COMMANDS, GLOBAL_OPTIONS);
    if (parsed.kind === 'version') {
      io.stdout.write(`basis/${CLI_VERSION} ${process.platform}-${process.arch} node-${process.version}\n`);
      return EXIT.ok;
    }
    if (parsed.kind === 'help' || parsed.kind === 'none') {
      io.stdout.write((parsed.kind === 'help' && parsed.command !== undefined ? renderCommandHelp(CLI_VERSION, parsed.command, GLOBAL_OPTIONS) : renderHelp(CLI_VERSION, COMMANDS, GLOBAL_OPTIONS)) + '\n');
      return parsed.kind === 'help' ? EXIT.ok : EXIT.usage;
    }
    const g = parseOptions(GLOBAL_OPTIONS, parsed.global);
    json = g.json;
    const globals: GlobalOptions = { backend: g.backend, seed: g.seed, json: g.json, quiet: g.quiet, ...(g.threads === undefined ? {} : { threads: g.threads }) };
    const { command } = parsed;
    const opts = await parseOptionsAsync(command.options, parsed.options);
    command.check?.(parsed.args, opts);
    const ctx = makeContext(globals, io);
    // a stale lock of a dead process taken over: one line, like other notices (none under --quiet)
    setLockNoticeHandler((line) => ctx.info(`basis: ${line}`));
    setUpEngine(ctx, command.engineNotice ?? true);
    return (await command.run(ctx, parsed.args, opts)) ?? EXIT.ok;
  } catch (e) {
    return reportError(e, io, json);
  }
}

function reportError(e: unknown, io: Io, json: boolean): number {
  let code: number;
  let kind: string;
  let message: string;
  if (isBasisError(e)) {
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
