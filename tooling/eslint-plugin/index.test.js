import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { RuleTester } from 'eslint';
import { fileURLToPath } from 'node:url';
import plugin, { relativeSpecifiers } from './index.js';

const here = fileURLToPath(new URL('.', import.meta.url));
const tester = new RuleTester({ languageOptions: { ecmaVersion: 2022, sourceType: 'module' } });

test('no-escaping-relative-import', () => {
  tester.run('no-escaping-relative-import', plugin.rules['no-escaping-relative-import'], {
    valid: [
      { code: "import x from './index.js';", filename: here + 'sub/file.js' },
      { code: "import x from '@basis/tensor';", filename: here + 'file.js' },
    ],
    invalid: [
      { code: "import x from '../other/src/index.js';", filename: here + 'file.js', errors: [{ messageId: 'escape' }] },
      { code: "export * from '../../packages/tensor/src/index.js';", filename: here + 'file.js', errors: [{ messageId: 'escape' }] },
    ],
  });
});

test('no-import-cycle', () => {
  const dir = mkdtempSync(join(tmpdir(), 'basis-cycle-'));
  writeFileSync(join(dir, 'package.json'), '{}');
  mkdirSync(join(dir, 'src'));
  // a.ts -> b.ts -> c.ts -> a.ts (c's import is type-only), and d.ts -> b.ts outside the cycle
  writeFileSync(join(dir, 'src', 'a.ts'), "import { b } from './b.js';\nexport const a = b;\n");
  writeFileSync(join(dir, 'src', 'b.ts'), "export { c as b } from './c.js';\n");
  writeFileSync(join(dir, 'src', 'c.ts'), "import type { A } from './a.js';\nexport const c = 1;\n");
  writeFileSync(join(dir, 'src', 'd.ts'), "import { b } from './b.js';\n");
  writeFileSync(join(dir, 'src', 'e.ts'), "export const e = 1;\n");
  const ts = new RuleTester({ languageOptions: { ecmaVersion: 2022, sourceType: 'module' } });
  try {
    ts.run('no-import-cycle', plugin.rules['no-import-cycle'], {
      valid: [
        { code: "import { b } from './b.js';", filename: join(dir, 'src', 'd.ts') },
        { code: "import { e } from './e.js'; import { x } from '@basis/tensor';", filename: join(dir, 'src', 'd.ts') },
      ],
      invalid: [
        { code: "import { b } from './b.js';", filename: join(dir, 'src', 'a.ts'), errors: [{ messageId: 'cycle', data: { cycle: 'src/a.ts -> src/b.ts -> src/c.ts -> src/a.ts' } }] },
        { code: "export { c as b } from './c.js';", filename: join(dir, 'src', 'b.ts'), errors: [{ messageId: 'cycle' }] },
        { code: "const m = import('./a.js');", filename: join(dir, 'src', 'c.ts'), errors: [{ messageId: 'cycle' }] },
      ],
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('relativeSpecifiers finds imports, type imports, re-exports and dynamic imports', () => {
  const found = relativeSpecifiers("import a from './a.js';\nimport type { B } from '../b.js';\nexport * from './c.js';\nexport { d } from './d.js';\nconst e = await import('./e.js');\nimport x from 'pkg';\n");
  assert.deepEqual(found, ['./a.js', '../b.js', './c.js', './d.js', './e.js']);
});
