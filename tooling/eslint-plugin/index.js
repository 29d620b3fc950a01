// basis lint rules that no published plugin offers in this form.
import { existsSync } from 'node:fs';
import { dirname, resolve, relative, sep } from 'node:path';

/** Nearest folder at or above `start` holding a package.json. */
function packageRoot(start) {
  let dir = start;
  for (;;) {
    if (existsSync(resolve(dir, 'package.json'))) return dir;
    const up = dirname(dir);
    if (up === dir) return undefined;
    dir = up;
  }
}

/** Relative imports must stay inside the importing file's own package. */
const noEscapingRelativeImport = {
  meta: {
    type: 'problem',
    docs: { description: 'forbid relative imports that leave the package (import the package by name instead)' },
    schema: [],
    messages: {
      escape: "Relative import '{{source}}' leaves package '{{pkg}}'; import the other package by its name (e.g. '@basis/tensor').",
    },
  },
  create(context) {
    const file = context.filename ?? context.getFilename();
    const root = packageRoot(dirname(file));
    function check(node) {
      const source = node.source && node.source.value;
      if (typeof source !== 'string' || !source.startsWith('.') || root === undefined) return;
      const target = resolve(dirname(file), source);
      const rel = relative(root, target);
      if (rel.startsWith('..' + sep) || rel === '..') {
        context.report({ node: node.source, messageId: 'escape', data: { source, pkg: relative(process.cwd(), root) || '.' } });
      }
    }
    return {
      ImportDeclaration: check,
      ExportNamedDeclaration: check,
      ExportAllDeclaration: check,
      ImportExpression: check,
    };
  },
};

export default {
  meta: { name: '@basis/eslint-plugin' },
  rules: { 'no-escaping-relative-import': noEscapingRelativeImport },
};
