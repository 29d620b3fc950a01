// Bounded inflation of raw deflate data: the output is counted as it is produced (input is fed
// in slices small enough that one slice cannot expand past the budget by more than a few MiB),
// so a decompression bomb stops at the budget instead of allocating gigabytes.
import { Inflate, inflateSync } from 'fflate';
import { BasisError } from '../errors.js';
import { formatBytes, type ByteBudget } from './limits.js';

/** Deflate expands at most 1032:1 (a 258-byte match per two bits). */
const MAX_RATIO = 1032;
const MIN_SLICE = 4 * 1024;
const MAX_SLICE = 1024 * 1024;
/** Streams at most this long are inflated in one call. */
const SMALL = 16 * 1024;

/** Options of {@link inflateBounded}. */
export interface InflateBoundedOptions {
  /** The budget the output is counted against. */
  budget: ByteBudget;
  /** What is being inflated, for messages (`'data.pkl'`, `'member x.npy'`). */
  what: string;
  /** Prefix of BAD_FILE messages about corrupt data (`not a valid .npz file`). */
  fileKind: string;
  /**
   * The exact size the container declares (a zip member's uncompressed size): counted against
   * the budget before inflating, allocated once, and any other length is an error.
   */
  size?: number;
  /** A size hint that is not trusted (gzip's length trailer): the first allocation. */
  hint?: number;
}

/**
 * Inflates raw deflate data, counting every output byte against `budget` (BAD_FILE naming the
 * limit when exceeded) and refusing a stream that produces more or fewer bytes than a declared
 * `size`. Truncated or corrupt streams raise BAD_FILE.
 *
 * @example
 * ```ts
 * const out = inflateBounded(raw, { budget: new ByteBudget(2 ** 28, 'my file'), what: 'payload', fileKind: 'my file', size: 1024 });
 * ```
 */
export function inflateBounded(raw: Uint8Array, opts: InflateBoundedOptions): Uint8Array {
  const { budget, what, fileKind, size } = opts;
  const bad = (m: string) => new BasisError('BAD_FILE', `${fileKind}: ${m}`);
  let out: Uint8Array;
  if (size !== undefined) {
    budget.take(size, `${what} once inflated`);
    if (raw.length <= SMALL) {
      // small members in one call: a stream this short cannot do more than ~16 MiB of work, and
      // one byte of room past the declared size shows whether it produces more than declared
      let got: Uint8Array;
      try {
        got = inflateSync(raw, { out: new Uint8Array(size + 1) });
      } catch (e) {
        throw bad(`${what} does not inflate (${(e as Error).message}); the file is truncated or corrupt`);
      }
      if (got.length > size) throw bad(`${what} inflates to more than the ${size} bytes its header declares (corrupt or crafted)`);
      if (got.length !== size) throw bad(`${what} inflates to ${got.length} bytes, not the ${size} its header declares`);
      return got;
    }
    out = new Uint8Array(size);
  } else {
    const hint = Math.min(opts.hint ?? 0, budget.left);
    out = new Uint8Array(Math.max(64, Math.min(hint > 0 ? hint : raw.length * 4, budget.left)));
  }
  let len = 0;
  const inflater = new Inflate((chunk: Uint8Array) => {
    if (chunk.length === 0) return;
    if (size !== undefined) {
      if (len + chunk.length > size) throw bad(`${what} inflates to more than the ${size} bytes its header declares (corrupt or crafted)`);
    } else {
      budget.take(chunk.length, `${what} (still inflating after ${formatBytes(len)})`);
      if (len + chunk.length > out.length) {
        const grown = new Uint8Array(Math.min(Math.max(len + chunk.length, 2 * out.length), len + chunk.length + budget.left));
        grown.set(out.subarray(0, len));
        out = grown;
      }
    }
    out.set(chunk, len);
    len += chunk.length;
  });
  let pos = 0;
  try {
    while (pos < raw.length) {
      const left = size !== undefined ? size - len : budget.left;
      // at most ~1/8 of what is left per slice: fflate's own buffers hold one slice's output
      const slice = Math.max(MIN_SLICE, Math.min(MAX_SLICE, Math.floor(left / (8 * MAX_RATIO))));
      const end = Math.min(raw.length, pos + slice);
      inflater.push(raw.subarray(pos, end), end === raw.length);
      pos = end;
    }
    if (raw.length === 0) inflater.push(raw, true);
  } catch (e) {
    if (e instanceof BasisError) throw e;
    throw bad(`${what} does not inflate (${(e as Error).message}); the file is truncated or corrupt`);
  }
  if (size !== undefined && len !== size) throw bad(`${what} inflates to ${len} bytes, not the ${size} its header declares`);
  return len === out.length ? out : 4 * len >= 3 * out.length ? out.subarray(0, len) : out.slice(0, len);
}
