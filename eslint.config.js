// ESLint flat config for the whole monorepo.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import basis from '@basis/eslint-plugin';

// Package layering (DESIGN.md): for each library package, the packages it must never import.
const LAYERS = [['tensor'], ['align'], ['symmetry'], ['zoo'], ['connectivity', 'degeneracy'], ['experiments']];
const ABOVE = Object.fromEntries(
  LAYERS.flatMap((layer, i) =>
    layer.map((pkg) => [pkg, [...layer.filter((p) => p !== pkg), ...LAYERS.slice(i + 1).flat(), 'cli', 'docs']]),
  ),
);

// Typed lint (type-aware rules: recommendedTypeChecked and switch-exhaustiveness-check), package
// by package as each is cleaned; the project service finds each file's own tsconfig.json.
const TYPED = ['packages/tensor', 'packages/zoo', 'packages/symmetry', 'packages/connectivity', 'packages/degeneracy', 'packages/align', 'apps/cli', 'packages/experiments', 'apps/docs'];

export default tseslint.config(
  { ignores: ['**/dist/**', '**/node_modules/**', '**/.turbo/**', '**/coverage/**', 'apps/docs/.vitepress/cache/**', '**/fixtures/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    plugins: { basis },
    languageOptions: {
      ecmaVersion: 2023,
      sourceType: 'module',
      globals: { console: 'readonly', process: 'readonly', URL: 'readonly', TextDecoder: 'readonly', TextEncoder: 'readonly', performance: 'readonly', setTimeout: 'readonly', clearTimeout: 'readonly', Buffer: 'readonly', structuredClone: 'readonly', queueMicrotask: 'readonly' },
    },
    linterOptions: { reportUnusedDisableDirectives: 'error' },
    rules: {
      'basis/no-escaping-relative-import': 'error',
      'basis/no-import-cycle': 'error',
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: ['@basis/*/src', '@basis/*/src/**'], message: "Import the package's public entry ('@basis/x'), not its src/." },
            { group: ['@basis/*/dist', '@basis/*/dist/**'], message: "Import the package's public entry ('@basis/x'), not its dist/." },
            { group: ['@tensorflow/tfjs-core/dist/**', '@tensorflow/*/dist/**'], message: 'Deep imports into tfjs break under Node ESM; import the package root.' },
          ],
        },
      ],
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-constant-condition': ['error', { checkLoops: false }],
      eqeqeq: ['error', 'smart'],
    },
  },
  ...TYPED.flatMap((dir) => [
    ...tseslint.configs.recommendedTypeChecked.map((c) => ({ ...c, files: [`${dir}/**/*.ts`] })),
    {
      files: [`${dir}/**/*.ts`],
      languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
      rules: {
        '@typescript-eslint/switch-exhaustiveness-check': ['error', { considerDefaultExhaustiveForUnions: true }],
        // off for now: the code asserts `x[i] as number` for noUncheckedIndexedAccess, and the rule's
        // autofix also dropped assertions that tsc needs (tfjs TensorInfo | undefined); see issue 17
        '@typescript-eslint/no-unnecessary-type-assertion': 'off',
      },
    },
  ]),
  // Front doors list their names (no `export *`), so that a package's public API can be read in
  // one file.
  {
    files: ['packages/*/src/index.ts', 'packages/*/src/node.ts', 'packages/*/src/numbers.ts', 'apps/*/src/index.ts'],
    rules: {
      'no-restricted-syntax': ['error', { selector: 'ExportAllDeclaration', message: "A front door lists what it exports: write `export { a, b, type C } from './x.js'` instead of `export *`." }],
    },
  },
  // Library packages: only @tensorflow/tfjs-core may be imported statically (backends are chosen by
  // the CLI), and package arrows point down only (DESIGN.md): each package lists what sits above it.
  ...Object.entries(ABOVE).map(([pkg, above]) => ({
    files: [`packages/${pkg}/src/**/*.ts`],
    ignores: ['packages/*/src/**/*.test.ts', 'packages/tensor/src/tfjs/backend.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: ['@basis/*/src', '@basis/*/src/**', '@basis/*/dist', '@basis/*/dist/**'], message: "Import the package's public entry." },
            { group: ['@tensorflow/tfjs', '@tensorflow/tfjs-node', '@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-backend-*', '@tensorflow/*/dist/**'], message: 'Library code imports only @tensorflow/tfjs-core; backends are selected by the CLI (see DESIGN.md).' },
            ...(above.length === 0 ? [] : [{ group: above.flatMap((a) => [`@basis/${a}`, `@basis/${a}/*`]), message: `@basis/${pkg} must not import packages above it (arrows point down: cli → experiments → connectivity/degeneracy → zoo → symmetry → align → tensor).` }]),
          ],
        },
      ],
    },
  })),
);
