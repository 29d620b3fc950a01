// Every code example on the site is a file in examples/ that a page includes verbatim
// (`<<< @/examples/x.ts`); this test runs each one and checks what it prints, so no example can rot.
import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it, vi } from 'vitest';

const DOCS = dirname(fileURLToPath(import.meta.url));
const EXAMPLES = readdirSync(join(DOCS, 'examples')).filter((f) => f.endsWith('.ts')).sort();

/** What each example must print (every line, in order). */
const EXPECTED: Record<string, Array<string | RegExp>> = {
  'tensor.ts': ['max |s(X) - s(XQ)| < 1e-12: true', 'M[1][0] = 3', 'rejected with NON_FINITE_INPUT'],
  'align.ts': [
    'cka.linear: rotated 1.000, permuted 1.000',
    'procrustes.similarity: rotated 1.000, permuted 1.000',
    'permutation.similarity: rotated 0.403, permuted 1.000',
    'rotation-invariant metrics include cka.linear: true',
  ],
  'symmetry.ts': ['relu: positive-monomial', 'tanh: signed-permutation', 'SiLU: permutation', 'outputs equal: true', 'hidden units changed: true'],
  'zoo.ts': [
    'test accuracy above 90%: true',
    'groups: layers.0: positive-monomial, layers.2: positive-monomial',
    'outputs unchanged under the group (float32): true',
    'activations of layers.1: 150 x 32',
  ],
  'connectivity.ts': ['planted permutation recovered: true', /^loss barrier naive: \d\.\d{3} matched: \d\.\d{3}$/, 'matching lowers the barrier: true'],
  'degeneracy.ts': [
    'input: width 6, rank 6, basis size 6',
    'layers.1: width 12, rank 12, basis size 12',
    'layers.3: width 12, rank 12, basis size 3',
    'layers.4: width 3, rank 3, basis size 3',
    'LLC of w^4 within 0.1 of 1/4: true',
  ],
  'experiments.ts': ['svg: true', 'self-contained html: true'],
};

/** Pages that include each example (every example must be shown somewhere). */
function includedBy(file: string): string[] {
  const pages = ['guide/getting-started.md', ...readdirSync(join(DOCS, 'packages')).map((f) => `packages/${f}`)];
  return pages.filter((p) => readFileSync(join(DOCS, p), 'utf8').includes(`<<< @/examples/${file}`));
}

describe('site examples', () => {
  afterEach(() => vi.restoreAllMocks());

  it('every example has expected output and is included by a page', () => {
    expect(EXAMPLES.sort()).toEqual(Object.keys(EXPECTED).sort());
    for (const f of EXAMPLES) expect(includedBy(f), f).not.toEqual([]);
  });

  it('the hand-written pages hold no inline TypeScript/JavaScript that this test would not run', () => {
    const pages = ['index.md', 'playground.md', 'guide/getting-started.md', ...readdirSync(join(DOCS, 'packages')).map((f) => `packages/${f}`)];
    for (const p of pages) expect(readFileSync(join(DOCS, p), 'utf8'), p).not.toMatch(/^```(ts|typescript|js|javascript)\b/m);
  });

  for (const file of EXAMPLES) {
    it(`examples/${file} runs and prints what the page says`, async () => {
      const lines: string[] = [];
      vi.spyOn(console, 'log').mockImplementation((...args: unknown[]) => {
        const text = args.map(String).join(' ');
        // tfjs prints a banner about tfjs-node on first use in Node; it is not the example's output
        if (!/^=+$|^Hi, looks like you are running TensorFlow\.js in Node/.test(text)) lines.push(text);
      });
      await import(`./examples/${file.replace(/\.ts$/, '')}.ts`);
      const want = EXPECTED[file] ?? [];
      expect(lines).toHaveLength(want.length);
      want.forEach((w, i) => (typeof w === 'string' ? expect(lines[i]).toBe(w) : expect(lines[i]).toMatch(w)));
      // the output a page shows under the example is the output it really prints
      for (const page of includedBy(file)) {
        const text = readFileSync(join(DOCS, page), 'utf8');
        const after = text.slice(text.indexOf(`<<< @/examples/${file}`));
        const shown = /```text\n([\s\S]*?)\n```/.exec(after);
        expect(shown, `${page} shows no output block after ${file}`).not.toBeNull();
        expect(shown?.[1]?.split('\n'), `${page}: output shown for ${file}`).toEqual(lines);
      }
    });
  }
});
