// The compute engine as the CLI shows and records it: `--threads`, the one-line notice when the
// WebAssembly kernels are used for want of a system BLAS/LAPACK, `basis info`'s rows, and the
// provenance written into every result.
import { engineInfo, threadBudget, type EngineInfo } from '@basis/tensor';

/** What `basis info` says about reproducibility across engines. */
export const DETERMINISM =
  'bit-identical for the same provider, core type and thread count; differs by ~1e-14 relative across them';

/** How to get a system BLAS/LAPACK on this platform (for the fallback notice and `basis info`). */
export function installHint(platform: string = process.platform): string {
  if (platform === 'linux') return 'on Debian/Ubuntu: apt-get install libopenblas0-pthread';
  if (platform === 'darwin') return 'Accelerate is found automatically; or brew install openblas';
  return 'set BASIS_BLAS=/path/to/libopenblas';
}

/**
 * The informational line printed (once, on stderr) when the engine falls back to WebAssembly,
 * or null when there is nothing to say: a native library is in use, or `BASIS_BLAS=off` asked
 * for WebAssembly.
 */
export function fallbackNotice(e: EngineInfo = engineInfo()): string | null {
  if (e.provider === 'native' || e.requested === 'off') return null;
  const reason = e.reason ?? 'no system BLAS/LAPACK found';
  const hint = /koffi/.test(reason) ? 'reinstall with optional dependencies, e.g. pnpm install' : installHint();
  const detail = e.requested !== 'auto' && e.tried?.[0] !== undefined ? `: ${e.tried[0]}` : '';
  return `basis: using WebAssembly kernels (${reason}${detail}; ${hint})`;
}

/** `basis info`'s rows about the engine (label, value). */
export function engineRows(e: EngineInfo = engineInfo()): [string, string][] {
  const rows: [string, string][] = [];
  if (e.provider === 'native') {
    rows.push(['compute engine', `native (${e.flavour ?? 'BLAS/LAPACK'} through koffi)`]);
    rows.push(['BLAS/LAPACK library', e.library ?? '?']);
    if (e.lapackLibrary !== undefined) rows.push(['LAPACK library', e.lapackLibrary]);
    rows.push(['core type', e.coreType ?? '?']);
    rows.push(['64-bit integers (ILP64)', e.int64 === true ? 'yes' : 'no']);
    rows.push(['huge pages for large buffers', e.hugePages === true ? 'advised (madvise; BASIS_HUGEPAGES=off stops it)' : 'no']);
    rows.push(['engine threads', e.threads > 0 ? `${e.threads} (budget ${threadBudget()}: --threads, BASIS_THREADS or every core)` : 'unknown (the library does not say)']);
  } else {
    rows.push(['compute engine', 'wasm (basis WebAssembly kernels, 1 thread)']);
    rows.push(['why wasm', e.reason ?? 'WebAssembly kernels']);
    for (const t of e.tried ?? []) rows.push(['  tried', t]);
    if (e.requested !== 'off') rows.push(['native engine', `${installHint()}, or BASIS_BLAS=/path/to/lib`]);
    rows.push(['thread budget', `${threadBudget()} (worker pools: --threads, BASIS_THREADS or every core)`]);
  }
  rows.push(['determinism', DETERMINISM]);
  return rows;
}
