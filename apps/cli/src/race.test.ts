// Two `basis train` processes into one --out (issue 16): the loser fails cleanly at once, the run
// left behind is never corrupt or contradictory. Four trials here (one per variant, staggered
// starts); `pnpm --filter @basis/cli race` runs 20 (see race-train.ts).
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { raceTrain } from './test-helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'basis-race-'));

describe('two basis train into one --out', () => {
  it('4 races (same config, other width, other epochs, other seed): one writer, a consistent run', async () => {
    const delays = [0, 150, 400, 0];
    const seen = new Set<string>();
    for (let t = 0; t < 4; t++) {
      const r = await raceTrain(dir, t, delays[t]!);
      expect(r.problems, `${r.variant} (delay ${r.delayMs} ms): ${r.problems.join('; ')}`).toEqual([]);
      seen.add(r.loser.replace(/\(PID \d+.*/, ''));
    }
    // at least one race overlapped: the loser was refused by the lock, naming the holder
    expect([...seen].some((l) => /\[IO\]: '.*' is in use by another basis process/.test(l)), [...seen].join('\n')).toBe(true);
  }, 180_000);

  it('after a run, another configuration into the same OUT is refused (USAGE) and train.json is left as it was', async () => {
    const { readFileSync } = await import('node:fs');
    const { basis } = await import('./test-helpers.js');
    const out = join(dir, 'race-0');
    const before = readFileSync(join(out, 'train.json'), 'utf8');
    const r = await basis('train', '--arch', 'mlp', '--depth', '1', '--width', '24', '--dataset', 'mnist', '--train-size', '600', '--test-size', '200', '--epochs', '2', '--batch-size', '32', '--seeds', '7', '--out', out);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/\[USAGE\]: '.*race-0' holds runs of another configuration: its train\.json has model \{"arch":"mlp","width":16,"depth":1\}, this command asks for \{"arch":"mlp","width":24,"depth":1\}/);
    expect(readFileSync(join(out, 'train.json'), 'utf8')).toBe(before);
  }, 120_000);
});
