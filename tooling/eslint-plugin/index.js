// basis lint rules that no published plugin offers in this form.
import { existsSync, readFileSync, statSync } from 'node:fs';
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

/**
 * The visitor of a rule about relative imports: `onImport({ file, root, source, node })` for each
 * relative import, re-export and dynamic import of a file inside a package.
 */
function relativeImportVisitor(context, onImport) {
  const file = context.filename ?? context.getFilename();
  const root = packageRoot(dirname(file));
  function check(node) {
    const source = node.source && node.source.value;
    if (typeof source !== 'string' || !source.startsWith('.') || root === undefined) return;
    onImport({ file, root, source, node: node.source });
  }
  return { ImportDeclaration: check, ExportNamedDeclaration: check, ExportAllDeclaration: check, ImportExpression: check };
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
    return relativeImportVisitor(context, ({ file, root, source, node }) => {
      const rel = relative(root, resolve(dirname(file), source));
      if (rel.startsWith('..' + sep) || rel === '..') {
        context.report({ node, messageId: 'escape', data: { source, pkg: relative(process.cwd(), root) || '.' } });
      }
    });
  },
};

// ---------------------------------------------------------------------------------------------
// Import cycles inside a package. For each relative import of the linted file, the rule looks for
// a path of relative imports (re-exports and dynamic imports included, and type-only ones: a cycle
// of types still ties two modules together) from the imported file back to the linted one. The
// other files are read from disk (cached while unchanged).

const IMPORT_RE = /(?:^|[;\n}])\s*(?:import|export)\s+(?:type\s+)?(?:[\w*{}\s,$]+?\s+from\s+)?['"](\.{1,2}\/[^'"]+)['"]|import\(\s*['"](\.{1,2}\/[^'"]+)['"]\s*\)/g;
const parsed = new Map(); // file -> { mtime, specs }

/** Relative import specifiers of a source text (comments are not stripped: a commented-out import still counts). */
export function relativeSpecifiers(text) {
  const out = [];
  for (const m of text.matchAll(IMPORT_RE)) out.push(m[1] ?? m[2]);
  return out;
}

/** The file a relative specifier names: `./x.js` is `./x.ts` in sources, `./dir` is `./dir/index.ts`. */
function resolveSpecifier(from, spec) {
  const base = resolve(dirname(from), spec);
  const candidates = [base, base.replace(/\.js$/, '.ts'), base.replace(/\.mjs$/, '.mts'), `${base}.ts`, resolve(base, 'index.ts')];
  for (const c of candidates) {
    try {
      if (statSync(c).isFile()) return c;
    } catch {
      // not this one
    }
  }
  return undefined;
}

function importsOf(file) {
  let mtime;
  try {
    mtime = statSync(file).mtimeMs;
  } catch {
    return [];
  }
  const hit = parsed.get(file);
  if (hit !== undefined && hit.mtime === mtime) return hit.targets;
  const targets = relativeSpecifiers(readFileSync(file, 'utf8'))
    .map((s) => resolveSpecifier(file, s))
    .filter((t) => t !== undefined);
  parsed.set(file, { mtime, targets });
  return targets;
}

/** A shortest import path from `start` back to `file` inside `root`, as a list of files, or undefined. */
export function cycleThrough(file, start, root, own = importsOf) {
  const prev = new Map([[start, undefined]]);
  const queue = [start];
  while (queue.length > 0) {
    const f = queue.shift();
    if (f === file) {
      const path = [];
      for (let x = f; x !== undefined; x = prev.get(x)) path.unshift(x);
      return path;
    }
    for (const t of own(f)) {
      if (prev.has(t) || relative(root, t).startsWith('..')) continue;
      prev.set(t, f);
      queue.push(t);
    }
  }
  return undefined;
}

const noImportCycle = {
  meta: {
    type: 'problem',
    docs: { description: 'forbid import cycles between the modules of a package (type-only imports included)' },
    schema: [],
    messages: {
      cycle: "Import cycle: {{cycle}}. Move what both modules need into a third module that neither imports back.",
    },
  },
  create(context) {
    return relativeImportVisitor(context, ({ file, root, source, node }) => {
      const target = resolveSpecifier(file, source);
      if (target === undefined || target === file) return;
      const path = cycleThrough(file, target, root);
      if (path === undefined) return;
      const cycle = [file, ...path].map((f) => relative(root, f)).join(' -> ');
      context.report({ node, messageId: 'cycle', data: { cycle } });
    });
  },
};

export default {
  meta: { name: '@basis/eslint-plugin' },
  rules: { 'no-escaping-relative-import': noEscapingRelativeImport, 'no-import-cycle': noImportCycle },
};
