// Shared by the CLI tests (excluded from the build): run the real built binary.
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** Path of the `basis` binary. */
export const BIN = fileURLToPath(new URL('../bin/basis.js', import.meta.url));

/** Outcome of one run of the binary. */
export interface Outcome {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `basis ...args` and resolves to its exit code and output (never rejects on a non-zero exit). */
export async function basis(...args: string[]): Promise<Outcome> {
  return basisWithEnv({}, ...args);
}

/** {@link basis} with extra environment variables (a value of undefined removes the variable). */
export async function basisWithEnv(env: Record<string, string | undefined>, ...args: string[]): Promise<Outcome> {
  const merged: Record<string, string | undefined> = { ...process.env, ...env };
  for (const k of Object.keys(merged)) if (merged[k] === undefined) delete merged[k];
  try {
    const { stdout, stderr } = await run(process.execPath, [BIN, ...args], { timeout: 240_000, env: merged });
    return { code: 0, stdout, stderr };
  } catch (e) {
    const err = e as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof err.code === 'number' ? err.code : -1, stdout: err.stdout ?? '', stderr: err.stderr ?? '' };
  }
}
