import type { Writable } from 'node:stream';

/** Global flags every command understands. */
export interface GlobalOptions {
  /** tfjs backend preference: auto, tensorflow, wasm or cpu. */
  backend: 'auto' | 'tensorflow' | 'wasm' | 'cpu';
  /** Seed for every random draw of the command. */
  seed: number;
  /** Machine-readable result on stdout and nothing else there. */
  json: boolean;
  /** No progress or informational output on stderr. */
  quiet: boolean;
  /** Threads of the compute engine (`--threads`; default `BASIS_THREADS`, else every core). */
  threads?: number;
}

/** Where a command writes: stdout for results, stderr for progress and diagnostics. */
export interface Io {
  stdout: Writable;
  stderr: Writable;
}

/** What a command receives besides its own arguments. */
export interface CommandContext {
  options: GlobalOptions;
  io: Io;
  /** Prints a line to stderr unless --quiet. */
  info(line: string): void;
  /** Prints the result: JSON when --json, else the human text. */
  result(json: unknown, human: () => string): void;
}

export function makeContext(options: GlobalOptions, io: Io): CommandContext {
  return {
    options,
    io,
    info(line) {
      if (!options.quiet) io.stderr.write(line + '\n');
    },
    result(json, human) {
      if (options.json) io.stdout.write(JSON.stringify(json, null, 2) + '\n');
      else io.stdout.write(human() + '\n');
    },
  };
}
