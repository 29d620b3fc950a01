// Staleness of the committed gallery (issue 15): every recipe report in gallery-data/ records the
// hash of its recipe's own source files and configuration (runRecipe writes `recipeHash`); this
// test recomputes it from the current recipe and fails when they differ, naming the command that
// regenerates the report. Reports also record their run time and start date.
import { existsSync } from 'node:fs';
import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { RECIPE_REGISTRY, recipeHash } from '@basis/experiments/node';

const DATA = join(import.meta.dirname, 'gallery-data');

interface Stored {
  id?: string;
  profile?: string;
  config?: unknown;
  recipeHash?: string;
  seconds?: number;
  started?: string;
  checks?: unknown[];
}

async function reports(): Promise<Array<{ dir: string; r: Stored }>> {
  const out: Array<{ dir: string; r: Stored }> = [];
  for (const d of (await readdir(DATA, { withFileTypes: true })).filter((x) => x.isDirectory())) {
    const file = join(DATA, d.name, 'result.json');
    if (!existsSync(file)) continue;
    const r = JSON.parse(await readFile(file, 'utf8')) as Stored;
    if (Array.isArray(r.checks)) out.push({ dir: d.name, r });
  }
  return out;
}

describe('committed gallery reports', () => {
  it('come from the current recipes (recipe hash of source files and configuration), with their run time', async () => {
    const stale: string[] = [];
    const rs = await reports();
    expect(rs.length).toBeGreaterThan(0);
    for (const { dir, r } of rs) {
      const recipe = RECIPE_REGISTRY[dir];
      if (recipe === undefined || r.id !== dir) {
        stale.push(`${dir}: no registered recipe of that id (result id ${String(r.id)})`);
        continue;
      }
      if (typeof r.recipeHash !== 'string') {
        stale.push(`${dir}: no recipeHash (generated before reports recorded one)`);
        continue;
      }
      if (r.profile !== 'quick' && r.profile !== 'standard' && r.profile !== 'full') {
        stale.push(`${dir}: unknown profile ${String(r.profile)}`);
        continue;
      }
      const current = await recipeHash(recipe, recipe.checkConfig(recipe.profiles[r.profile]));
      if (current.hash !== r.recipeHash) stale.push(`${dir}: recipe ${current.files.join(', ')} or its ${r.profile} configuration changed since the report (hash ${r.recipeHash.slice(0, 12)} → ${current.hash.slice(0, 12)})`);
      if (!(typeof r.seconds === 'number' && r.seconds > 0) || typeof r.started !== 'string') stale.push(`${dir}: no run time or start date`);
    }
    expect(stale, `stale gallery reports; regenerate them with 'pnpm --filter docs gallery <id>...':\n${stale.join('\n')}`).toEqual([]);
  });
});
