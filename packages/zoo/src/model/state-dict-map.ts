// Mapping a PyTorch state_dict whose names are not the graph's onto a zoo graph: explicit key
// maps (`regex=replacement`), common wrapper prefixes, and the structural match (modules in
// PyTorch's module order, each module's parameter names and shapes equal to one graph node's).
import { BasisError } from '@basis/tensor';

/**
 * One rename rule: every key matching `pattern` has the match replaced by `replacement`
 * (JavaScript `String.replace` syntax: `$1` for groups). A key renamed to `''` is ignored.
 *
 * @example
 * ```ts
 * const rule: KeyMapRule = { pattern: /^backbone\./, replacement: '' };
 * ```
 */
export interface KeyMapRule {
  readonly pattern: RegExp | string;
  readonly replacement: string;
}

/**
 * An explicit mapping of state_dict keys: rules applied in order to each key (each rule to the
 * result of the previous one; strings in the CLI's `regex=replacement` form), or a function from
 * a key to its graph name (`null` or `''` ignores the entry, `undefined` keeps the key).
 *
 * @example
 * ```ts
 * const byRules: KeyMap = ['^encoder\\.=layers.', { pattern: /\.gamma$/, replacement: '.weight' }];
 * const byFn: KeyMap = (k) => (k.startsWith('aux.') ? null : k.replace(/^trunk\./, ''));
 * ```
 */
export type KeyMap = readonly (KeyMapRule | string)[] | ((key: string) => string | null | undefined);

/**
 * Parses one `regex=replacement` rule (the first `=` separates them; the regex may not be empty).
 * CONFIG_INVALID names the rule when it has no `=` or the regex does not compile.
 *
 * @example
 * ```ts
 * parseKeyMapRule('^model\\.(\\d+)=layers.$1'); // { pattern: /^model\.(\d+)/, replacement: 'layers.$1' }
 * ```
 */
export function parseKeyMapRule(rule: string): KeyMapRule & { readonly pattern: RegExp } {
  if (typeof rule !== 'string') throw new BasisError('CONFIG_INVALID', `a key-map rule must be a string 'regex=replacement', got ${typeof rule}`);
  const at = rule.indexOf('=');
  if (at <= 0) throw new BasisError('CONFIG_INVALID', `key-map rule '${rule}' must have the form 'regex=replacement' (e.g. '^encoder\\.=layers.'), with a non-empty regex`);
  const src = rule.slice(0, at);
  let pattern: RegExp;
  try {
    pattern = new RegExp(src);
  } catch (e) {
    throw new BasisError('CONFIG_INVALID', `key-map rule '${rule}': '${src}' is not a valid regular expression (${(e as Error).message})`);
  }
  return { pattern, replacement: rule.slice(at + 1) };
}

/**
 * A function applying a key map (null: ignore the entry); null when there is no map.
 * CONFIG_INVALID names a malformed rule.
 *
 * @example
 * ```ts
 * compileKeyMap(['^enc\\.=', '^fc(\\d)=layers.$1'])!('enc.fc2.weight'); // 'layers.2.weight'
 * ```
 */
export function compileKeyMap(map: KeyMap | undefined): ((key: string) => string | null) | null {
  if (map === undefined) return null;
  if (typeof map === 'function') {
    return (key) => {
      const out = map(key);
      if (out === undefined) return key;
      if (out === null || out === '') return null;
      if (typeof out !== 'string') throw new BasisError('CONFIG_INVALID', `the key map returned ${typeof out} for '${key}'; it must return a string, null or undefined`);
      return out;
    };
  }
  if (!Array.isArray(map)) throw new BasisError('CONFIG_INVALID', 'keyMap must be a list of rules or a function');
  const rules = map.map((r: KeyMapRule | string, i) => {
    if (typeof r === 'string') return parseKeyMapRule(r);
    if (r === null || typeof r !== 'object' || typeof r.replacement !== 'string') throw new BasisError('CONFIG_INVALID', `keyMap[${i}] must be 'regex=replacement' or { pattern, replacement }`);
    let pattern: RegExp;
    try {
      pattern = typeof r.pattern === 'string' ? new RegExp(r.pattern) : r.pattern;
    } catch (e) {
      throw new BasisError('CONFIG_INVALID', `keyMap[${i}].pattern is not a valid regular expression (${(e as Error).message})`);
    }
    if (!(pattern instanceof RegExp)) throw new BasisError('CONFIG_INVALID', `keyMap[${i}].pattern must be a RegExp or a string`);
    return { pattern, replacement: r.replacement };
  });
  return (key) => {
    let k = key;
    for (const r of rules) {
      r.pattern.lastIndex = 0;
      k = k.replace(r.pattern, r.replacement);
    }
    return k === '' ? null : k;
  };
}

/** Shapes of one module's (or graph node's) parameters: suffix -> shape. */
export interface ModuleEntry {
  /** The full key (file) or parameter name (graph). */
  readonly key: string;
  /** Last name component: weight, bias, running_mean, ... */
  readonly suffix: string;
  readonly shape: readonly number[];
}

interface Leaf {
  readonly path: string;
  readonly entries: ModuleEntry[];
  sig: string;
}

interface TreeNode {
  readonly comp: string;
  readonly first: number;
  readonly children: TreeNode[];
  leaf?: Leaf;
  size: number;
  bag: string;
}

/** One graph node's parameters, in graph order. */
export interface GraphGroup {
  readonly node: string;
  readonly entries: readonly ModuleEntry[];
}

function signature(entries: readonly ModuleEntry[]): string {
  return [...entries]
    .sort((a, b) => (a.suffix < b.suffix ? -1 : a.suffix > b.suffix ? 1 : 0))
    .map((e) => `${e.suffix} [${e.shape.join(', ')}]`)
    .join(', ');
}

const NUM = /^\d+$/;
const SUFFIXED = /^(.*\D)(\d+)$/;

/**
 * Whether sibling module `a` must come before sibling `b`. With `order: 'file'` the file's order
 * is PyTorch's module order (a .pt state_dict); with `'names'` only what the names say is known:
 * a module's own parameters precede its children, `nn.Sequential`/`nn.ModuleList` indices
 * (`features.0` < `features.3`) and numbered names with one stem (`conv1` < `conv2`, `layer1` <
 * `layer2`) are ordered, other named siblings are not.
 */
function precedes(a: TreeNode, b: TreeNode, order: 'file' | 'names'): boolean {
  if (a.comp === '#self') return true;
  if (b.comp === '#self') return false;
  if (order === 'file') return a.first < b.first;
  if (NUM.test(a.comp) && NUM.test(b.comp)) return Number(a.comp) < Number(b.comp);
  const ma = SUFFIXED.exec(a.comp);
  const mb = SUFFIXED.exec(b.comp);
  if (ma !== null && mb !== null && ma[1] === mb[1]) return Number(ma[2]) < Number(mb[2]);
  return false;
}

function buildTree(entries: readonly ModuleEntry[]): { root: TreeNode; leaves: Leaf[] } {
  const root: TreeNode = { comp: '', first: 0, children: [], size: 0, bag: '' };
  const leaves = new Map<string, Leaf>();
  entries.forEach((e, i) => {
    const dot = e.key.lastIndexOf('.');
    const path = dot < 0 ? '' : e.key.slice(0, dot);
    let leaf = leaves.get(path);
    if (leaf === undefined) {
      leaf = { path, entries: [], sig: '' };
      leaves.set(path, leaf);
      let node = root;
      for (const comp of [...(path === '' ? [] : path.split('.')), '#self']) {
        let child = node.children.find((c) => c.comp === comp);
        if (child === undefined) {
          child = { comp, first: i, children: [], size: 0, bag: '' };
          node.children.push(child);
        }
        node = child;
      }
      node.leaf = leaf;
    }
    leaf.entries.push(e);
  });
  for (const l of leaves.values()) l.sig = signature(l.entries);
  const fill = (n: TreeNode): string[] => {
    const sigs = n.leaf !== undefined ? [n.leaf.sig] : n.children.flatMap(fill);
    n.size = sigs.length;
    n.bag = [...sigs].sort().join('\n');
    return sigs;
  };
  fill(root);
  return { root, leaves: [...leaves.values()] };
}

/** Result of {@link matchByStructure}: graph parameter name -> file key. */
export type StructureMatch = Map<string, string>;

const STEP_LIMIT = 200_000;

function describe(entries: readonly ModuleEntry[]): string {
  return signature(entries);
}

/**
 * Maps file entries onto graph parameters by structure: the file's keys form a module tree
 * (`stages.0.0.conv1.weight` is parameter `weight` of module `stages.0.0.conv1`); a mapping
 * walks the tree in module order (see {@link precedes}) and pairs each module with the next
 * graph node whose parameter names and shapes are equal. One mapping: returned. None:
 * BAD_FILE naming where it fails. Several (modules of equal shapes whose order the file does
 * not tell): BAD_FILE listing the candidates, never a guess.
 *
 * @example
 * ```ts
 * const m = matchByStructure(fileEntries, graphGroups, 'file', 'mlp-16x12-relu');
 * m.get('layers.0.weight'); // '0.weight'
 * ```
 */
export function matchByStructure(fileEntries: readonly ModuleEntry[], groups: readonly GraphGroup[], order: 'file' | 'names', graphName: string): StructureMatch {
  const { root, leaves } = buildTree(fileEntries);
  const gsig = groups.map((g) => signature(g.entries));
  const hint = " Map the rest by hand with --key-map 'regex=replacement' (API: keyMap), or check the architecture flags.";
  // the multisets of module signatures must agree before any order is tried
  const count = (sigs: readonly string[]): Map<string, number> => {
    const m = new Map<string, number>();
    for (const s of sigs) m.set(s, (m.get(s) ?? 0) + 1);
    return m;
  };
  const fc = count(leaves.map((l) => l.sig));
  const gc = count(gsig);
  const onlyFile: string[] = [];
  const onlyGraph: string[] = [];
  for (const [s, n] of fc) {
    const d = n - (gc.get(s) ?? 0);
    if (d > 0) onlyFile.push(`${d} x (${s}) e.g. '${leaves.find((l) => l.sig === s)!.path}'`);
  }
  for (const [s, n] of gc) {
    const d = n - (fc.get(s) ?? 0);
    if (d > 0) onlyGraph.push(`${d} x (${s}) e.g. '${groups[gsig.indexOf(s)]!.node}'`);
  }
  if (onlyFile.length > 0 || onlyGraph.length > 0) {
    throw new BasisError(
      'BAD_FILE',
      `the state_dict's names are not ${graphName}'s and its modules do not fit it by shape: ` +
        `${onlyFile.length > 0 ? `the file has modules ${onlyFile.slice(0, 4).join('; ')} that ${graphName} lacks` : ''}` +
        `${onlyFile.length > 0 && onlyGraph.length > 0 ? '; ' : ''}` +
        `${onlyGraph.length > 0 ? `${graphName} needs ${onlyGraph.slice(0, 4).join('; ')} that the file lacks` : ''}. Is this file of another architecture or width?${hint}`,
      { details: { onlyFile, onlyGraph } },
    );
  }
  const windows = new Map<string, string>();
  const windowBag = (pos: number, size: number): string => {
    const k = `${pos}:${size}`;
    let b = windows.get(k);
    if (b === undefined) {
      b = gsig.slice(pos, pos + size).sort().join('\n');
      windows.set(k, b);
    }
    return b;
  };
  const stack: [Leaf, number][] = [];
  const solutions: Map<number, Leaf>[] = [];
  let steps = 0;
  let exhausted = false;
  let fail: { pos: number; leaf: Leaf } | null = null;
  const matchNode = (n: TreeNode, pos: number, cont: (p: number) => boolean): boolean => {
    if (++steps > STEP_LIMIT) {
      exhausted = true;
      return true;
    }
    if (n.leaf !== undefined) {
      if (pos >= groups.length || gsig[pos] !== n.leaf.sig) {
        if (fail === null || pos > fail.pos) fail = { pos, leaf: n.leaf };
        return false;
      }
      stack.push([n.leaf, pos]);
      const stop = cont(pos + 1);
      stack.pop();
      return stop;
    }
    // a subtree covers a contiguous run of graph nodes with the same shapes (pruning for the
    // search over unknown sibling orders; in file order the first misfit leaf is reported instead)
    if (pos + n.size > groups.length || (order === 'names' && windowBag(pos, n.size) !== n.bag)) return false;
    return orderChildren(n.children, pos, cont);
  };
  const orderChildren = (remaining: readonly TreeNode[], pos: number, cont: (p: number) => boolean): boolean => {
    if (remaining.length === 0) return cont(pos);
    for (const c of remaining) {
      if (remaining.some((o) => o !== c && precedes(o, c, order))) continue;
      const rest = remaining.filter((o) => o !== c);
      if (matchNode(c, pos, (p2) => orderChildren(rest, p2, cont))) return true;
    }
    return false;
  };
  matchNode(root, 0, (p) => {
    if (p !== groups.length) return false;
    solutions.push(new Map(stack.map(([l, i]) => [i, l])));
    return solutions.length >= 2;
  });
  if (solutions.length >= 2) {
    const [a, b] = solutions as [Map<number, Leaf>, Map<number, Leaf>];
    const diffs: string[] = [];
    const candidates: Record<string, string[]> = {};
    groups.forEach((g, i) => {
      const la = a.get(i)!;
      const lb = b.get(i)!;
      if (la === lb) return;
      const same = leaves.filter((l) => l.sig === la.sig).map((l) => l.path);
      candidates[g.node] = same;
      if (diffs.length < 4) diffs.push(`'${g.node}' (${gsig[i]}) could be ${same.map((s) => `'${s}'`).join(' or ')}`);
    });
    throw new BasisError(
      'BAD_FILE',
      `the state_dict maps onto ${graphName} in more than one way, so basis will not guess: ${diffs.join('; ')}. ` +
        `${order === 'names' ? 'This file keeps no module order (safetensors files are sorted by name); load the .pt file, or ' : 'Either '}name them with --key-map 'regex=replacement' (API: keyMap).`,
      { details: { candidates } },
    );
  }
  if (solutions.length === 0) {
    if (exhausted) {
      throw new BasisError('BAD_FILE', `the state_dict's modules could not be ordered against ${graphName} within ${STEP_LIMIT} steps (too many modules of unknown order).${hint}`);
    }
    const f = fail as { pos: number; leaf: Leaf } | null;
    const at = f === null ? undefined : groups[f.pos];
    throw new BasisError(
      'BAD_FILE',
      f === null || at === undefined
        ? `the state_dict's modules do not line up with ${graphName}'s nodes in module order.${hint}`
        : `the state_dict's modules do not line up with ${graphName}'s nodes in module order: after ${f.pos} matched node(s), '${at.node}' needs (${gsig[f.pos]}) but the file's module '${f.leaf.path}' holds (${describe(f.leaf.entries)}).${hint}`,
      { details: { position: f?.pos ?? null } },
    );
  }
  const out: StructureMatch = new Map();
  for (const [i, leaf] of solutions[0]!) {
    const g = groups[i]!;
    for (const e of g.entries) out.set(e.key, leaf.entries.find((x) => x.suffix === e.suffix)!.key);
  }
  return out;
}
