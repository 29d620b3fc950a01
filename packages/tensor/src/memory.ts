// Large float64 buffers. The first write to freshly allocated memory costs a page fault per 4 KiB
// page; on virtualised or sandboxed Linux machines that is the dominant cost of every N x d copy
// (about 75 ms per 80 MB here, most of a centring pass). Like numpy (which advises huge pages for
// arrays of 4 MiB and more), basis asks the kernel for transparent huge pages on large buffers
// when the native engine can reach libc's madvise; faults then come once per 2 MiB.

/** Gives advice on one buffer (set by the native engine; never throws). */
export type BufferAdvisor = (buf: Float64Array) => void;

/** Buffers from this size on are advised (numpy uses the same threshold). */
export const LARGE_BUFFER_BYTES = 4 * 1024 * 1024;

let advisor: BufferAdvisor | null | undefined;
let resolve: (() => BufferAdvisor | null) | undefined;

/** Registers how to find the advisor on first use (the engine, when it is loaded). Internal. */
export function setAdvisorResolver(f: () => BufferAdvisor | null): void {
  resolve = f;
  advisor = undefined;
}

/**
 * A zero-filled Float64Array of `length` entries; large ones are advised to use huge pages when
 * the native engine is in use (see `engineInfo().hugePages`). Same contents and semantics as
 * `new Float64Array(length)`.
 *
 * @example
 * ```ts
 * const buf = float64Buffer(10_000 * 1024); // 80 MB, faulted in 2 MiB at a time on Linux
 * ```
 */
export function float64Buffer(length: number): Float64Array {
  const a = new Float64Array(length);
  if (a.byteLength >= LARGE_BUFFER_BYTES) {
    if (advisor === undefined) advisor = resolve?.() ?? null;
    if (advisor !== null) advisor(a);
  }
  return a;
}
