import { BasisError } from '../errors.js';
import { portableLog } from './portable-log.js';

/** The serialisable state of an {@link Rng}: four 32-bit words plus a cached normal, if any. */
export interface RngState {
  readonly s: readonly [number, number, number, number];
  readonly spare: number | null;
}

/** splitmix32: a 32-bit mixing function used to expand seeds. */
function mix32(x: number): number {
  x = (x + 0x9e3779b9) | 0;
  let z = x;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  return (z ^ (z >>> 16)) >>> 0;
}

/** 32-bit FNV-1a of a string's UTF-16 code units, then mixed. */
function hashString(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193) >>> 0;
  return h;
}

function seedWords(seed: number | string): [number, number, number, number] {
  let lo: number;
  let hi: number;
  if (typeof seed === 'string') {
    lo = hashString(seed);
    hi = hashString('basis:' + seed);
  } else {
    if (!Number.isSafeInteger(seed) || seed < 0) {
      throw new BasisError('INVALID_ARGUMENT', `seed must be a non-negative safe integer or a string, got ${seed}`);
    }
    lo = seed >>> 0;
    hi = Math.floor(seed / 4294967296) >>> 0;
  }
  let x = mix32(lo ^ 0x5bd1e995) ^ hi;
  const out: number[] = [];
  for (let k = 0; k < 4; k++) {
    x = mix32(x + k * 0x6d2b79f5 + hi);
    out.push(x);
  }
  // xoshiro must not start from the all-zero state
  if ((out[0]! | out[1]! | out[2]! | out[3]!) === 0) out[0] = 1;
  return out as [number, number, number, number];
}

/**
 * A seeded pseudo-random generator (xoshiro128** on 32-bit integer arithmetic) that produces the
 * same stream on every platform and JavaScript engine: uniforms come from integer operations only,
 * and normals use the Marsaglia polar method with a portable logarithm (no `Math.log`/`Math.cos`).
 *
 * @example
 * ```ts
 * import { createRng } from '@basis/tensor';
 * const rng = createRng(42);
 * rng.uniform(); // in [0, 1), the same on every machine
 * rng.normal();  // standard normal
 * const child = rng.fork('worker-1'); // an independent, reproducible stream
 * ```
 */
export class Rng {
  private s0: number;
  private s1: number;
  private s2: number;
  private s3: number;
  private spare: number | null = null;

  private constructor(words: readonly [number, number, number, number]) {
    [this.s0, this.s1, this.s2, this.s3] = words;
  }

  /** A generator seeded by a non-negative safe integer or a string. */
  static fromSeed(seed: number | string): Rng {
    return new Rng(seedWords(seed));
  }

  /** Restores a generator saved with {@link Rng.state} (continues the same stream). */
  static fromState(state: RngState): Rng {
    const s = state?.s;
    if (!Array.isArray(s) || s.length !== 4 || s.some((w) => !Number.isInteger(w) || w < 0 || w > 0xffffffff)) {
      throw new BasisError('INVALID_ARGUMENT', 'RNG state must hold four unsigned 32-bit integers in `s`');
    }
    if ((s[0] | s[1] | s[2] | s[3]) === 0) throw new BasisError('INVALID_ARGUMENT', 'RNG state must not be all zeros');
    const r = new Rng(s as unknown as [number, number, number, number]);
    r.spare = state.spare ?? null;
    return r;
  }

  /** The current state, a plain JSON-serialisable value (for checkpoints). */
  state(): RngState {
    return { s: [this.s0, this.s1, this.s2, this.s3], spare: this.spare };
  }

  /** A copy that continues the same stream independently. */
  clone(): Rng {
    return Rng.fromState(this.state());
  }

  /** The next 32 random bits as an unsigned integer. */
  nextUint32(): number {
    const result = Math.imul(rotl(Math.imul(this.s1, 5), 7), 9) >>> 0;
    const t = this.s1 << 9;
    this.s2 ^= this.s0;
    this.s3 ^= this.s1;
    this.s1 ^= this.s2;
    this.s0 ^= this.s3;
    this.s2 ^= t;
    this.s3 = rotl(this.s3, 11);
    this.s0 >>>= 0;
    this.s1 >>>= 0;
    this.s2 >>>= 0;
    this.s3 >>>= 0;
    return result;
  }

  /** Uniform in [0, 1) with 53 random bits. */
  uniform(): number {
    const hi = this.nextUint32() >>> 5; // 27 bits
    const lo = this.nextUint32() >>> 6; // 26 bits
    return (hi * 67108864 + lo) / 9007199254740992;
  }

  /** Uniform in [lo, hi). */
  uniformRange(lo: number, hi: number): number {
    if (!Number.isFinite(lo) || !Number.isFinite(hi) || !(hi > lo)) {
      throw new BasisError('INVALID_ARGUMENT', `uniformRange needs finite lo < hi, got [${lo}, ${hi})`);
    }
    return lo + (hi - lo) * this.uniform();
  }

  /** A uniform integer in {0, ..., n-1}, without modulo bias (n up to 2^32). */
  int(n: number): number {
    if (!Number.isInteger(n) || n <= 0 || n > 4294967296) {
      throw new BasisError('INVALID_ARGUMENT', `int(n) needs an integer 1 <= n <= 2^32, got ${n}`);
    }
    if (n === 1) return 0;
    // rejection: accept draws below the largest multiple of n that fits in 2^32
    const limit = 4294967296 - (4294967296 % n);
    for (;;) {
      const x = this.nextUint32();
      if (x < limit) return x % n;
    }
  }

  /** A normal draw (Marsaglia polar method), `mean + std * z`. */
  normal(mean = 0, std = 1): number {
    if (this.spare !== null) {
      const z = this.spare;
      this.spare = null;
      return mean + std * z;
    }
    for (;;) {
      const u = 2 * this.uniform() - 1;
      const v = 2 * this.uniform() - 1;
      const s = u * u + v * v;
      if (s > 0 && s < 1) {
        const m = Math.sqrt((-2 * portableLog(s)) / s);
        this.spare = v * m;
        return mean + std * (u * m);
      }
    }
  }

  /**
   * An independent child stream derived from this generator's current state and `label`
   * (deterministic: the same parent state and label give the same child). The parent advances by
   * one draw so that successive forks with the same label differ.
   */
  fork(label: string | number = ''): Rng {
    const salt = typeof label === 'number' ? mix32(label >>> 0) : hashString(String(label));
    const a = this.nextUint32();
    const words: [number, number, number, number] = [
      mix32(a ^ salt),
      mix32(this.s1 ^ mix32(salt + 1)),
      mix32(this.s2 ^ mix32(salt + 2)),
      mix32(this.s3 ^ mix32(salt + 3)),
    ];
    if ((words[0] | words[1] | words[2] | words[3]) === 0) words[0] = 1;
    return new Rng(words);
  }
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}

/**
 * A seeded generator; see {@link Rng}.
 *
 * @example
 * ```ts
 * const rng = createRng('experiment-7');
 * ```
 */
export function createRng(seed: number | string): Rng {
  return Rng.fromSeed(seed);
}
