// JSON from files, with the nesting depth bounded before parsing: V8's JSON.parse copes with any
// depth, but every recursive walk afterwards (JSON.stringify, String(array), validators, error
// messages) overflows the stack on a 10^4-deep array.
import { BasisError } from '../errors.js';

/** Deepest nesting of arrays and objects accepted in JSON read from files (as serde_json's default). */
export const MAX_JSON_DEPTH = 128;

/**
 * The deepest nesting of `[` / `{` in JSON text (strings and escapes skipped), stopping as soon as
 * `limit` is exceeded. Linear time, no recursion.
 *
 * @example
 * ```ts
 * jsonDepth('{"a": [[1], 2]}'); // 3
 * ```
 */
export function jsonDepth(text: string, limit = Infinity): number {
  let depth = 0;
  let max = 0;
  const n = text.length;
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22) {
      // a string: skip to its closing quote
      for (i++; i < n; i++) {
        const d = text.charCodeAt(i);
        if (d === 0x5c) i++;
        else if (d === 0x22) break;
      }
    } else if (c === 0x5b || c === 0x7b) {
      depth++;
      if (depth > max) {
        max = depth;
        if (max > limit) return max;
      }
    } else if (c === 0x5d || c === 0x7d) depth--;
  }
  return max;
}

/**
 * `JSON.parse` for text read from a file: BAD_FILE (prefixed by `what`) when the text is not
 * JSON or nests arrays/objects deeper than `maxDepth` (default {@link MAX_JSON_DEPTH}).
 *
 * @example
 * ```ts
 * const manifest = parseJsonBounded(text, 'runs/a/manifest.json');
 * ```
 */
export function parseJsonBounded(text: string, what: string, maxDepth = MAX_JSON_DEPTH): unknown {
  if (jsonDepth(text, maxDepth) > maxDepth) {
    throw new BasisError('BAD_FILE', `${what}: the JSON nests arrays or objects more than ${maxDepth} deep (corrupt or crafted)`, { details: { limit: 'maxDepth', maxDepth } });
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new BasisError('BAD_FILE', `${what}: not valid JSON (${(e as Error).message})`, { cause: e });
  }
}
