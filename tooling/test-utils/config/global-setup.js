// Runs once per vitest run in the main process: points TMPDIR at a fresh folder for this run
// (inherited by the test workers and by the CLI processes tests spawn) and removes it afterwards,
// so tests that forget to clean their mkdtemp folders leave nothing behind in the system tmp.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export default function setup() {
  const previous = process.env.TMPDIR;
  const dir = mkdtempSync(join(tmpdir(), 'basis-test-'));
  process.env.TMPDIR = dir;
  return () => {
    if (previous === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = previous;
    rmSync(dir, { recursive: true, force: true });
  };
}
