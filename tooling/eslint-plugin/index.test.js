import { test } from 'node:test';
import { RuleTester } from 'eslint';
import { fileURLToPath } from 'node:url';
import plugin from './index.js';

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
