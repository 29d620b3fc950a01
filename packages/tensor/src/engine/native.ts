// Loading a system BLAS/LAPACK through koffi (an FFI with prebuilt binaries inside its npm
// package). Browser-safe: nothing here imports a Node module statically; in Node the loader is
// reached through `process.getBuiltinModule` (Node >= 20.16), in a browser `loadNative` returns
// a reason and the engine stays on WebAssembly.
//
// Every binding is declared with the library's integer width (32-bit LP64 or 64-bit ILP64
// builds) and passes typed arrays by pointer without copying. A raw binding must only ever be
// called through the checked wrappers in `blas.ts` / `lapack.ts`: a wrong dimension, leading
// dimension or buffer length crashes the process instead of throwing.

/** A loaded koffi library handle (the subset used here). */
interface KoffiLib {
  func(signature: string): (...args: unknown[]) => unknown;
  unload?(): void;
}
interface KoffiConfig {
  sync_stack_size: number;
}
interface Koffi {
  load(path: string): KoffiLib;
  config?(settings?: KoffiConfig): KoffiConfig;
  address?(value: unknown): bigint | number;
  version?: string;
  /** Resolved module path (set by loadKoffi). */
  path?: string | undefined;
}

/** What kind of library was found. */
export type NativeFlavour = 'openblas' | 'generic' | 'accelerate' | 'mkl' | 'blis';

/** An integer array of the library's width (Int32Array for LP64, BigInt64Array for ILP64). */
export type IntArray = Int32Array | BigInt64Array;

/** Raw bindings (unchecked; call only through the wrappers). */
export interface NativeBindings {
  dgemm: (...a: unknown[]) => void;
  dsyrk: (...a: unknown[]) => void;
  dgemv: (...a: unknown[]) => void;
  idamax: (...a: unknown[]) => unknown;
  sgemm: (...a: unknown[]) => void;
  dsyevd: (...a: unknown[]) => void;
  dgesdd: (...a: unknown[]) => void;
  dgeqrf: (...a: unknown[]) => void;
  dorgqr: (...a: unknown[]) => void;
  dormqr: (...a: unknown[]) => void;
  dgesv: (...a: unknown[]) => void;
  dgetrf: (...a: unknown[]) => void;
  dpotrf: (...a: unknown[]) => void;
  dgels: (...a: unknown[]) => void;
  dsygst: (...a: unknown[]) => void;
}

/** A system BLAS/LAPACK ready to call. */
export interface NativeLib {
  flavour: NativeFlavour;
  /** Path (or soname) of the BLAS library, and of the LAPACK library when separate. */
  path: string;
  lapackPath: string;
  /** 64-bit integer interface (ILP64). */
  int64: boolean;
  /** Symbol suffix of the build ('' or '64_'). */
  suffix: string;
  /** `openblas_get_corename()` or a description of the library. */
  coreType: string;
  /** Library version/config string when it reports one. */
  config: string;
  /** Sets the library's thread count (false when the library cannot be told). */
  setThreads(n: number): boolean;
  /** The library's current thread count (0 = unknown). */
  getThreads(): number;
  fn: NativeBindings;
  /** Makes an integer array of the library's width. */
  ints(values: readonly number[]): IntArray;
  /** Reads entry i of an integer array of the library's width. */
  intAt(a: IntArray, i: number): number;
  /** Advises transparent huge pages for a large buffer (Linux madvise), or null where unavailable. */
  advise: ((buf: Float64Array) => void) | null;
  /** The address of a typed array's first element (koffi), for hand-offs to other threads. */
  address?: ((v: ArrayBufferView) => number) | null;
  /** Where koffi was loaded from (a worker thread loads the same copy). */
  koffiPath?: string | null;
}

/** `MADV_HUGEPAGE` (the same value on every Linux architecture). */
const MADV_HUGEPAGE = 14;
const HUGE_PAGE = 2n * 1024n * 1024n;

/**
 * libc's madvise bound through koffi on Linux: advises `MADV_HUGEPAGE` on the whole 2 MiB-aligned
 * pages inside a buffer (advice only: a kernel without transparent huge pages ignores it).
 */
function hugePageAdvisor(koffi: Koffi, platform: string): ((buf: Float64Array) => void) | null {
  if (platform !== 'linux' || typeof koffi.address !== 'function') return null;
  try {
    const madvise = koffi.load('libc.so.6').func('int madvise(uintptr_t addr, size_t len, int advice)');
    const address = koffi.address.bind(koffi);
    return (buf: Float64Array) => {
      try {
        const addr = BigInt(address(buf));
        const start = ((addr + HUGE_PAGE - 1n) / HUGE_PAGE) * HUGE_PAGE;
        const end = ((addr + BigInt(buf.byteLength)) / HUGE_PAGE) * HUGE_PAGE;
        if (end > start) madvise(start, end - start, MADV_HUGEPAGE);
      } catch {
        /* advice only */
      }
    };
  } catch {
    return null;
  }
}

/** Outcome of {@link loadNative}. */
export type LoadResult = { ok: true; lib: NativeLib } | { ok: false; reason: string; tried: string[] };

interface ProcessLike {
  platform?: string;
  arch?: string;
  env?: Record<string, string | undefined>;
  getBuiltinModule?: (id: string) => unknown;
}

function nodeProcess(): ProcessLike | undefined {
  const p = (globalThis as { process?: ProcessLike }).process;
  return p !== undefined && typeof p.getBuiltinModule === 'function' ? p : undefined;
}

/**
 * The C stack koffi runs synchronous calls on (bytes). koffi's default (2 MiB) is too small for
 * OpenBLAS' threaded LU: `dgetrf_parallel` keeps ~540 KB of thread bookkeeping on the stack per
 * level of its recursion, so a 60 x 60 `dgesv` on 2 threads overflowed it and killed the process
 * (SIGSEGV in dgetrf_parallel). 16 MiB (koffi's maximum) covers a recursion depth of 30; the
 * block is allocated once per thread that loads koffi.
 */
export const NATIVE_CALL_STACK_BYTES = 16 * 1024 * 1024;

/** Raises koffi's synchronous call stack to {@link NATIVE_CALL_STACK_BYTES} (never lowers it). */
function ensureCallStack(koffi: Koffi): void {
  if (typeof koffi.config !== 'function') return;
  const current = koffi.config();
  if (current.sync_stack_size < NATIVE_CALL_STACK_BYTES) koffi.config({ ...current, sync_stack_size: NATIVE_CALL_STACK_BYTES });
}

/** Loads koffi with Node's `require`, resolved from this package (an optional dependency). */
function loadKoffi(proc: ProcessLike): Koffi | string {
  try {
    const mod = proc.getBuiltinModule?.('module') as { createRequire(url: string): ((id: string) => unknown) & { resolve(id: string): string } } | undefined;
    if (mod === undefined) return 'node:module is not available';
    const req = mod.createRequire(import.meta.url);
    const koffi = req('koffi') as Koffi;
    try {
      koffi.path = req.resolve('koffi');
    } catch {
      koffi.path = undefined;
    }
    ensureCallStack(koffi);
    return koffi;
  } catch (e) {
    const msg = (e as Error).message.split('\n')[0] ?? String(e);
    return /Cannot find module/.test(msg) ? 'koffi is not installed (an optional dependency of @basis/tensor)' : `koffi failed to load: ${msg}`;
  }
}

/** Candidate libraries in the order tried: [blas, lapack (same file when equal)]. */
export function candidateLibraries(platform: string, arch: string): [string, string][] {
  if (platform === 'darwin') {
    return [
      ['/opt/homebrew/opt/openblas/lib/libopenblas.dylib', '/opt/homebrew/opt/openblas/lib/libopenblas.dylib'],
      ['/usr/local/opt/openblas/lib/libopenblas.dylib', '/usr/local/opt/openblas/lib/libopenblas.dylib'],
      [
        '/System/Library/Frameworks/Accelerate.framework/Accelerate',
        '/System/Library/Frameworks/Accelerate.framework/Accelerate',
      ],
    ];
  }
  if (platform === 'win32') {
    return [
      ['libopenblas.dll', 'libopenblas.dll'],
      ['openblas.dll', 'openblas.dll'],
    ];
  }
  const triplet = arch === 'arm64' ? 'aarch64-linux-gnu' : arch === 'x64' ? 'x86_64-linux-gnu' : `${arch}-linux-gnu`;
  const out: [string, string][] = [];
  for (const name of ['libopenblas.so.0', `/usr/lib/${triplet}/openblas-pthread/libopenblas.so.0`, '/usr/lib64/libopenblas.so.0', '/usr/lib64/libopenblasp.so.0']) {
    out.push([name, name]);
  }
  for (const name of ['libopenblas64_.so.0', 'libopenblas64.so.0', `/usr/lib/${triplet}/openblas64-pthread/libopenblas64.so.0`]) {
    out.push([name, name]);
  }
  out.push(['libblas.so.3', 'liblapack.so.3']);
  return out;
}

const CHAR = 'const char *';

function tryFunc(lib: KoffiLib, sig: string): ((...args: unknown[]) => unknown) | undefined {
  try {
    return lib.func(sig);
  } catch {
    return undefined;
  }
}

/**
 * Binds one library (pair). Returns a reason string when the library does not load or lacks a
 * needed symbol.
 */
function bind(koffi: Koffi, blasPath: string, lapackPath: string, platform: string): NativeLib | string {
  let blas: KoffiLib;
  let lapack: KoffiLib;
  try {
    blas = koffi.load(blasPath);
  } catch (e) {
    return `${blasPath}: ${((e as Error).message.split('\n')[0] ?? '').slice(0, 160)}`;
  }
  try {
    lapack = lapackPath === blasPath ? blas : koffi.load(lapackPath);
  } catch (e) {
    return `${lapackPath}: ${((e as Error).message.split('\n')[0] ?? '').slice(0, 160)}`;
  }
  // Which symbol suffix does this build use? ILP64 OpenBLAS builds (Debian's libopenblas64,
  // numpy's scipy-openblas64) append '64_' to every symbol.
  let suffix = '';
  if (tryFunc(blas, 'void cblas_dgemm(int, int, int, int, int, int, double, const double *, int, const double *, int, double, double *, int)') === undefined) {
    if (tryFunc(blas, 'void cblas_dgemm64_(int, int, int, int64_t, int64_t, int64_t, double, const double *, int64_t, const double *, int64_t, double, double *, int64_t)') !== undefined) suffix = '64_';
    else return `${blasPath}: no cblas_dgemm symbol (a Fortran-only BLAS; install OpenBLAS)`;
  }
  const configFn = tryFunc(blas, `${CHAR}openblas_get_config${suffix}()`) ?? tryFunc(blas, `${CHAR}openblas_get_config()`);
  const config = configFn !== undefined ? ((configFn() as string | null) ?? '') : '';
  const int64 = suffix === '64_' || /USE64BITINT/.test(config);
  const I = int64 ? 'int64_t' : 'int32_t';
  const P = int64 ? 'int64_t *' : 'int32_t *';
  const L = 'size_t'; // Fortran hidden character lengths (gfortran and f2c both take them last)
  const s = suffix;
  const need = (lib: KoffiLib, name: string, sig: string): ((...args: unknown[]) => unknown) | string => {
    const f = tryFunc(lib, sig);
    return f === undefined ? `${lib === blas ? blasPath : lapackPath}: missing symbol ${name}` : f;
  };
  const sigs: Record<keyof NativeBindings, [KoffiLib, string, string]> = {
    dgemm: [blas, `cblas_dgemm${s}`, `void cblas_dgemm${s}(int, int, int, ${I}, ${I}, ${I}, double, const double *, ${I}, const double *, ${I}, double, double *, ${I})`],
    dsyrk: [blas, `cblas_dsyrk${s}`, `void cblas_dsyrk${s}(int, int, int, ${I}, ${I}, double, const double *, ${I}, double, double *, ${I})`],
    dgemv: [blas, `cblas_dgemv${s}`, `void cblas_dgemv${s}(int, int, ${I}, ${I}, double, const double *, ${I}, const double *, ${I}, double, double *, ${I})`],
    idamax: [blas, `cblas_idamax${s}`, `size_t cblas_idamax${s}(${I}, const double *, ${I})`],
    sgemm: [blas, `cblas_sgemm${s}`, `void cblas_sgemm${s}(int, int, int, ${I}, ${I}, ${I}, float, const float *, ${I}, const float *, ${I}, float, float *, ${I})`],
    dsyevd: [lapack, `dsyevd_${s}`, `void dsyevd_${s}(${CHAR}, ${CHAR}, ${P}, double *, ${P}, double *, double *, ${P}, ${P}, ${P}, ${P}, ${L}, ${L})`],
    dgesdd: [lapack, `dgesdd_${s}`, `void dgesdd_${s}(${CHAR}, ${P}, ${P}, double *, ${P}, double *, double *, ${P}, double *, ${P}, double *, ${P}, ${P}, ${P}, ${L})`],
    dgeqrf: [lapack, `dgeqrf_${s}`, `void dgeqrf_${s}(${P}, ${P}, double *, ${P}, double *, double *, ${P}, ${P})`],
    dorgqr: [lapack, `dorgqr_${s}`, `void dorgqr_${s}(${P}, ${P}, ${P}, double *, ${P}, double *, double *, ${P}, ${P})`],
    dormqr: [lapack, `dormqr_${s}`, `void dormqr_${s}(${CHAR}, ${CHAR}, ${P}, ${P}, ${P}, double *, ${P}, double *, double *, ${P}, double *, ${P}, ${P}, ${L}, ${L})`],
    dgesv: [lapack, `dgesv_${s}`, `void dgesv_${s}(${P}, ${P}, double *, ${P}, ${P}, double *, ${P}, ${P})`],
    dgetrf: [lapack, `dgetrf_${s}`, `void dgetrf_${s}(${P}, ${P}, double *, ${P}, ${P}, ${P})`],
    dpotrf: [lapack, `dpotrf_${s}`, `void dpotrf_${s}(${CHAR}, ${P}, double *, ${P}, ${P}, ${L})`],
    dgels: [lapack, `dgels_${s}`, `void dgels_${s}(${CHAR}, ${P}, ${P}, ${P}, double *, ${P}, double *, ${P}, double *, ${P}, ${P}, ${L})`],
    dsygst: [lapack, `dsygst_${s}`, `void dsygst_${s}(${P}, ${CHAR}, ${P}, double *, ${P}, const double *, ${P}, ${P}, ${L})`],
  };
  const fn: Partial<NativeBindings> = {};
  for (const [key, [lib, name, sig]] of Object.entries(sigs) as [keyof NativeBindings, [KoffiLib, string, string]][]) {
    const f = need(lib, name, sig);
    if (typeof f === 'string') return f;
    fn[key] = f as (...a: unknown[]) => void;
  }
  // Thread control and identification, when the library offers them.
  const setOpen = tryFunc(blas, `void openblas_set_num_threads${s}(int)`) ?? tryFunc(blas, 'void openblas_set_num_threads(int)');
  const getOpen = tryFunc(blas, `int openblas_get_num_threads${s}()`) ?? tryFunc(blas, 'int openblas_get_num_threads()');
  const coreFn = tryFunc(blas, `${CHAR}openblas_get_corename${s}()`) ?? tryFunc(blas, `${CHAR}openblas_get_corename()`);
  const setMkl = tryFunc(blas, 'void MKL_Set_Num_Threads(int)');
  const getMkl = tryFunc(blas, 'int MKL_Get_Max_Threads()');
  const setBlis = tryFunc(blas, 'void bli_thread_set_num_threads(int64_t)');
  const getBlis = tryFunc(blas, 'int64_t bli_thread_get_num_threads()');
  let flavour: NativeFlavour;
  if (coreFn !== undefined || setOpen !== undefined) flavour = 'openblas';
  else if (setMkl !== undefined) flavour = 'mkl';
  else if (setBlis !== undefined) flavour = 'blis';
  else if (platform === 'darwin' && /Accelerate/.test(blasPath)) flavour = 'accelerate';
  else flavour = 'generic';
  const coreType = coreFn !== undefined ? ((coreFn() as string | null) ?? 'unknown') : flavour === 'accelerate' ? 'Accelerate' : flavour;
  const setThreads = (n: number): boolean => {
    if (setOpen !== undefined) setOpen(n);
    else if (setMkl !== undefined) setMkl(n);
    else if (setBlis !== undefined) setBlis(BigInt(n));
    else return false;
    return true;
  };
  const getThreads = (): number => {
    if (getOpen !== undefined) return Number(getOpen());
    if (getMkl !== undefined) return Number(getMkl());
    if (getBlis !== undefined) return Number(getBlis());
    return 0;
  };
  return {
    flavour,
    path: blasPath,
    lapackPath,
    int64,
    suffix,
    coreType,
    config,
    setThreads,
    getThreads,
    fn: fn as NativeBindings,
    ints: int64 ? (v) => BigInt64Array.from(v, (x) => BigInt(x)) : (v) => Int32Array.from(v),
    intAt: (a, i) => Number(a[i]),
    advise: null,
  };
}

/**
 * The file a soname resolved to (Linux: read from /proc/self/maps after loading), so that
 * provenance names the real library behind `libopenblas.so.0` or the system's alternatives.
 */
function resolvedPath(proc: ProcessLike, name: string): string {
  if (name.startsWith('/') || proc.platform !== 'linux') return name;
  try {
    const fs = proc.getBuiltinModule?.('fs') as { readFileSync(p: string, enc: string): string; realpathSync(p: string): string } | undefined;
    if (fs === undefined) return name;
    const stem = name.replace(/\.so(\.\d+)*$/, '');
    for (const line of fs.readFileSync('/proc/self/maps', 'utf8').split('\n')) {
      const file = line.slice(line.indexOf('/'));
      if (line.includes('/') && (file.split('/').pop() ?? '').startsWith(stem) && file.includes('.so')) return fs.realpathSync(file);
    }
  } catch {
    /* keep the soname */
  }
  return name;
}

/**
 * Finds and binds a system BLAS/LAPACK. `request` is `'auto'` (search the usual names and paths)
 * or a path/soname (that library only; for a separate LAPACK give `blas.so:lapack.so`).
 */
export function loadNative(request: string): LoadResult {
  const proc = nodeProcess();
  if (proc === undefined) return { ok: false, reason: 'not running in Node (>= 20.16): WebAssembly only', tried: [] };
  const koffi = loadKoffi(proc);
  if (typeof koffi === 'string') return { ok: false, reason: koffi, tried: [] };
  const platform = proc.platform ?? 'linux';
  let candidates: [string, string][];
  if (request === 'auto') {
    candidates = candidateLibraries(platform, proc.arch ?? 'x64');
  } else {
    const sep = platform === 'win32' ? ';' : ':';
    const parts = request.split(sep).filter((p) => p !== '');
    const blasPath = parts[0] ?? request;
    candidates = [[blasPath, parts[1] ?? blasPath]];
  }
  const tried: string[] = [];
  for (const [b, l] of candidates) {
    const r = bind(koffi, b, l, platform);
    if (typeof r !== 'string') {
      r.path = resolvedPath(proc, r.path);
      r.advise = hugePageAdvisor(koffi, platform);
      const address = koffi.address?.bind(koffi);
      r.address = address === undefined ? null : (v) => Number(address(v));
      r.koffiPath = koffi.path ?? null;
      r.lapackPath = r.lapackPath === b ? r.path : resolvedPath(proc, r.lapackPath);
      return { ok: true, lib: r };
    }
    tried.push(r);
  }
  const reason =
    request === 'auto'
      ? 'no system BLAS/LAPACK found (tried OpenBLAS, libblas.so.3 + liblapack.so.3, Accelerate)'
      : `BASIS_BLAS=${request} could not be used`;
  return { ok: false, reason, tried };
}
