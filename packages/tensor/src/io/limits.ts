// The one memory budget of every file reader (npy, npz, safetensors, torch.save, IDX, checkpoints):
// declared sizes and decompressed bytes are checked against it before anything is allocated.
import { BasisError } from '../errors.js';

/** The smallest default budget: 256 MiB. */
export const DEFAULT_MAX_BYTES_FLOOR = 256 * 2 ** 20;
/** The default budget grows with the file: 16 × its size (when that is above the floor). */
export const DEFAULT_MAX_BYTES_RATIO = 16;
/** The environment variable that sets the default budget of every reader (e.g. `BASIS_MAX_BYTES=8G`). */
export const MAX_BYTES_ENV = 'BASIS_MAX_BYTES';

/**
 * Options shared by every file reader of basis.
 *
 * @example
 * ```ts
 * const opts: ReadOptions = { maxBytes: 4 * 2 ** 30 }; // trust files that decode to up to 4 GiB
 * readNpz(bytes, opts);
 * ```
 */
export interface ReadOptions {
  /**
   * Most bytes the reader may produce from one file: decompressed data (zip members of `.npz`
   * and `.pt` files, gzip) plus the arrays it returns, counted before each allocation, so a
   * small crafted file (a decompression bomb, a header declaring a huge shape, a stride-0 view)
   * fails with `BAD_FILE` instead of exhausting memory. Default: the `BASIS_MAX_BYTES`
   * environment variable when set (bytes, or with a K/M/G/T suffix: `8G`), else 16 × the file
   * size and at least 256 MiB. Pass `Infinity` for trusted files of any size.
   */
  maxBytes?: number;
}

const UNITS: Record<string, number> = { '': 1, K: 2 ** 10, M: 2 ** 20, G: 2 ** 30, T: 2 ** 40 };

/**
 * Parses a byte count: a non-negative number, optionally with a binary K/M/G/T suffix
 * (`512M`, `8G`, `1.5GiB`), or `inf`/`Infinity`.
 *
 * @example
 * ```ts
 * parseByteSize('8G'); // 8589934592
 * ```
 */
export function parseByteSize(text: string, source = 'size'): number {
  const t = text.trim();
  if (/^(inf|infinity|unlimited)$/i.test(t)) return Infinity;
  const m = /^(\d+(?:\.\d+)?)\s*([KMGT]?)(?:i?B)?$/i.exec(t);
  if (m === null) throw new BasisError('CONFIG_INVALID', `${source} must be a byte count such as 536870912, 512M or 8G, got '${text}'`);
  return Math.floor(Number(m[1]) * (UNITS[(m[2] as string).toUpperCase()] as number));
}

/** A byte count for messages: `268435456 bytes (256 MiB)`. */
export function formatBytes(n: number): string {
  if (!Number.isFinite(n)) return String(n);
  const units = ['KiB', 'MiB', 'GiB', 'TiB', 'PiB'];
  let v = n;
  let u = -1;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return u < 0 ? `${n} bytes` : `${n} bytes (${v >= 100 ? Math.round(v) : Number(v.toPrecision(3))} ${units[u] as string})`;
}

function envMaxBytes(): number | undefined {
  const p = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process;
  const v = p?.env?.[MAX_BYTES_ENV];
  if (v === undefined || v.trim() === '') return undefined;
  return parseByteSize(v, MAX_BYTES_ENV);
}

/**
 * The budget a reader uses for a file of `fileBytes` bytes: `opts.maxBytes`, else
 * `BASIS_MAX_BYTES`, else max(256 MiB, 16 × fileBytes). Rejects a negative or NaN `maxBytes`.
 *
 * @example
 * ```ts
 * resolveMaxBytes({}, 1000); // 268435456 (unless BASIS_MAX_BYTES is set)
 * ```
 */
export function resolveMaxBytes(opts: ReadOptions | undefined, fileBytes: number): number {
  if (opts !== undefined && (typeof opts !== 'object' || opts === null)) throw new BasisError('INVALID_ARGUMENT', `read options must be an object, got ${typeof opts}`);
  const given = opts?.maxBytes;
  if (given !== undefined) {
    if (typeof given !== 'number' || !(given >= 0)) throw new BasisError('INVALID_ARGUMENT', `maxBytes must be a non-negative number of bytes, got ${String(given)}`);
    return given;
  }
  return envMaxBytes() ?? Math.max(DEFAULT_MAX_BYTES_FLOOR, DEFAULT_MAX_BYTES_RATIO * fileBytes);
}

/** How to raise the budget, appended to every over-budget message. */
export const RAISE_HINT = `if the file is trusted, raise the limit with the maxBytes read option or the ${MAX_BYTES_ENV} environment variable (e.g. ${MAX_BYTES_ENV}=8G)`;

/**
 * A running count of the bytes a reader has produced from one file, checked before each
 * allocation against `maxBytes`.
 */
export class ByteBudget {
  private used = 0;
  constructor(
    readonly maxBytes: number,
    /** Prefix of error messages (`not a valid .npz file`). */
    private readonly what: string,
  ) {}

  /** Bytes counted so far. */
  get spent(): number {
    return this.used;
  }

  /** Bytes still available. */
  get left(): number {
    return Math.max(0, this.maxBytes - this.used);
  }

  /** The error for `purpose` needing `bytes` more (without counting them). */
  error(bytes: number, purpose: string): BasisError {
    const already = this.used > 0 ? ` on top of the ${formatBytes(this.used)} already read` : '';
    return new BasisError(
      'BAD_FILE',
      `${this.what}: ${purpose} needs ${formatBytes(bytes)}${already}, more than maxBytes = ${formatBytes(this.maxBytes)}; ${RAISE_HINT}`,
      { details: { limit: 'maxBytes', maxBytes: this.maxBytes, requested: bytes, used: this.used } },
    );
  }

  /** Counts `bytes` for `purpose`, throwing `BAD_FILE` when the budget would be exceeded. */
  take(bytes: number, purpose: string): void {
    if (!(bytes >= 0) || this.used + bytes > this.maxBytes) throw this.error(bytes, purpose);
    this.used += bytes;
  }
}
