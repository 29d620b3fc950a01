// Every package README's TypeScript example runs: the blocks are written next to this file (so that
// imports resolve through the workspace) and imported, so no README example can rot.
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '..', '..');
const PACKAGES = readdirSync(join(ROOT, 'packages')).filter((p) => existsSync(join(ROOT, 'packages', p, 'README.md'))).sort();
const scratch = mkdtempSync(join(import.meta.dirname, '.readme-examples-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

function blocks(md: string): string[] {
  return [...md.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1] as string);
}

describe('package READMEs', () => {
  it('every package has one, with a TypeScript example', () => {
    expect(PACKAGES).toEqual(['align', 'connectivity', 'degeneracy', 'experiments', 'symmetry', 'tensor', 'zoo']);
    for (const p of PACKAGES) expect(blocks(readFileSync(join(ROOT, 'packages', p, 'README.md'), 'utf8')).length, p).toBeGreaterThan(0);
  });

  for (const p of PACKAGES) {
    it(`packages/${p}/README.md: its examples run`, { timeout: 120_000 }, async () => {
      const code = blocks(readFileSync(join(ROOT, 'packages', p, 'README.md'), 'utf8'));
      for (const [i, src] of code.entries()) {
        const file = join(scratch, `${p}-${i}.ts`);
        writeFileSync(file, src);
        await expect(import(file), `${p} example ${i}`).resolves.toBeDefined();
      }
    });
  }
});
