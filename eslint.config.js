// ESLint flat config for the whole monorepo.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import basis from '@basis/eslint-plugin';

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
  {
    // Library packages: only @tensorflow/tfjs-core may be imported statically; backends are chosen by the CLI.
    files: ['packages/*/src/**/*.ts'],
    ignores: ['packages/*/src/**/*.test.ts', 'packages/tensor/src/tfjs/backend.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: ['@basis/*/src', '@basis/*/src/**', '@basis/*/dist', '@basis/*/dist/**'], message: "Import the package's public entry." },
            { group: ['@tensorflow/tfjs', '@tensorflow/tfjs-node', '@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-backend-*', '@tensorflow/*/dist/**'], message: 'Library code imports only @tensorflow/tfjs-core; backends are selected by the CLI (see DESIGN.md).' },
          ],
        },
      ],
    },
  },
);
