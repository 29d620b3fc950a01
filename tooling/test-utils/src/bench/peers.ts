// The Python peers of `pnpm bench` (numpy/scipy, PyTorch) and how each side computes: which
// BLAS library, core type and thread count, under which environment. Both sides run under the
// same environment (OPENBLAS_CORETYPE, OPENBLAS_L2_SIZE as found); only the thread variables of
// the Python subprocess are set per row.
import { execFileSync, type ExecFileSyncOptions } from 'node:child_process';
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** Environment variables that change what a BLAS computes with, as found in this process. */
export const BLAS_ENV_VARS = ['OPENBLAS_CORETYPE', 'OPENBLAS_L2_SIZE', 'OPENBLAS_NUM_THREADS', 'OMP_NUM_THREADS', 'MKL_NUM_THREADS', 'OMP_WAIT_POLICY', 'GOTO_NUM_THREADS', 'BASIS_BLAS', 'BASIS_THREADS'] as const;

/** `{ OPENBLAS_CORETYPE: 'Haswell' | null, ... }` for {@link BLAS_ENV_VARS}. */
export function blasEnvironment(env: NodeJS.ProcessEnv = process.env): Record<string, string | null> {
  return Object.fromEntries(BLAS_ENV_VARS.map((k) => [k, env[k] ?? null]));
}

/** One line: `OPENBLAS_CORETYPE=unset OPENBLAS_L2_SIZE=unset ...` (the variables that are set, plus the two core-type ones always). */
export function blasEnvironmentLine(e: Record<string, string | null> = blasEnvironment()): string {
  return Object.entries(e)
    .filter(([k, v]) => v !== null || k === 'OPENBLAS_CORETYPE' || k === 'OPENBLAS_L2_SIZE')
    .map(([k, v]) => `${k}=${v ?? 'unset'}`)
    .join(' ');
}

/**
 * The environment of a Python peer subprocess computing on `threads` threads: this process'
 * environment (so OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE are the same on both sides) with the BLAS
 * and OpenMP thread variables set. `passiveWait` sets OMP_WAIT_POLICY=PASSIVE (Debian's torch
 * needs it to be stable on 2 threads).
 */
export function threadEnv(threads: number, opts: { passiveWait?: boolean; base?: NodeJS.ProcessEnv } = {}): NodeJS.ProcessEnv {
  const t = String(threads);
  return {
    ...(opts.base ?? process.env),
    OPENBLAS_NUM_THREADS: t,
    OMP_NUM_THREADS: t,
    MKL_NUM_THREADS: t,
    BASIS_TORCH_THREADS: t,
    ...(opts.passiveWait === true ? { OMP_WAIT_POLICY: 'PASSIVE' } : {}),
  };
}

/** A BLAS library a Python peer loaded (from peer_info.py). */
export interface PeerBlas {
  library: string;
  kind: 'openblas' | 'mkl' | 'blis';
  coreType?: string;
  threads?: number;
  config?: string;
  /** numpy (its own bundled copy), scipy (its own copy) or system (shared library found on the system). */
  loadedBy: 'numpy' | 'scipy' | 'system';
}

/** What peer_info.py reports about one Python executable under one environment. */
export interface PeerInfo {
  /** How it was called (`/usr/bin/python3`, `python3`). */
  command: string;
  /** `system` (Debian's python3, numpy on the system BLAS) or `pyenv` (the python3 on PATH). */
  label: string;
  python: string;
  pythonVersion: string;
  numpy?: string;
  numpyConfig?: string;
  scipy?: string | null;
  torch?: { version: string; threads: number; blasInfo: string; parallel: string; config: string } | { error: string };
  blas: PeerBlas[];
  env: Record<string, string | null>;
  error?: string;
}

const PEER_INFO = fileURLToPath(new URL('./peer_info.py', import.meta.url));

/**
 * Runs peer_info.py with `python` under `env`: versions, the BLAS libraries it loaded, their core
 * type and threads. `null` when that python cannot import numpy.
 */
export function probePeer(command: string, label: string, env: NodeJS.ProcessEnv = process.env, opts: { torch?: boolean } = {}): PeerInfo | null {
  try {
    const out = execFileSync(command, [PEER_INFO, ...(opts.torch === true ? ['torch'] : [])], { encoding: 'utf8', env, timeout: 300_000, stdio: ['ignore', 'pipe', 'pipe'] } as ExecFileSyncOptions) as string;
    const info = JSON.parse(out) as Omit<PeerInfo, 'command' | 'label'>;
    if (info.numpy === undefined) return null;
    return { command, label, ...info };
  } catch {
    return null;
  }
}

/** The library that numpy itself computes with (its own bundled copy first, then an OpenBLAS). */
export function primaryBlas(info: PeerInfo): PeerBlas | undefined {
  const b = info.blas;
  return b.find((x) => x.loadedBy === 'numpy') ?? b.find((x) => /openblas/i.test(x.library.split('/').pop() ?? '')) ?? b[0];
}

const short = (path: string): string => path.split('/').pop() ?? path;

/** `numpy 1.24.2 (system python3) · libopenblasp-r0.3.21.so Zen · 1 thread`. */
export function peerSummary(info: PeerInfo): string {
  const b = primaryBlas(info);
  const blas = b === undefined ? 'BLAS unknown' : `${short(b.library)} ${b.coreType ?? b.kind}, ${b.threads ?? '?'} thread${b.threads === 1 ? '' : 's'}`;
  return `numpy ${info.numpy ?? '?'} / scipy ${info.scipy ?? '-'} (${info.label}: ${info.python}) on ${blas}`;
}

/** Short tag for table cells: `numpy-system Zen 1t`. */
export function peerTag(info: PeerInfo, what = 'numpy'): string {
  const b = primaryBlas(info);
  if (what === 'torch' && info.torch !== undefined && !('error' in info.torch)) {
    return `torch-${info.label} ${b?.coreType ?? '?'} ${info.torch.threads}t`;
  }
  return `${what}-${info.label} ${b?.coreType ?? b?.kind ?? '?'} ${b?.threads ?? '?'}t`;
}

/** A Python executable to compare against. */
export interface PythonCandidate {
  /** `system` or `pyenv` (or `path` when the python3 on PATH is not a pyenv one). */
  label: string;
  command: string;
  /** What it is for, printed with the tables. */
  description: string;
}

/**
 * The Python executables worth comparing with: Debian's `/usr/bin/python3` (numpy/scipy/torch on
 * the system BLAS, the same library basis loads: the apples-to-apples peer) first, then the
 * `python3` on PATH when it is a different interpreter (e.g. pyenv's, numpy with its own bundled
 * scipy-openblas). Only those that can import numpy are kept. `BENCH_PYTHONS=system` or
 * `=system,pyenv` restricts the list (BENCH_QUICK=1 keeps the first only unless BENCH_PYTHONS
 * says otherwise); BASIS_SKIP_PYTHON=1 empties it.
 */
export function findPythons(env: NodeJS.ProcessEnv = process.env): PythonCandidate[] {
  if (env['BASIS_SKIP_PYTHON'] === '1') return [];
  const out: PythonCandidate[] = [];
  const resolved = new Set<string>();
  const probe = (command: string): string | null => {
    try {
      return execFileSync(command, ['-c', 'import sys, numpy; print(sys.executable)'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], timeout: 60_000 }).trim();
    } catch {
      return null;
    }
  };
  const sys = probe('/usr/bin/python3');
  if (sys !== null) {
    out.push({ label: 'system', command: '/usr/bin/python3', description: "Debian's numpy/scipy, linked to the system BLAS (the library basis loads)" });
    resolved.add(realpath(sys));
  }
  const path = probe('python3');
  if (path !== null && !resolved.has(realpath(path))) {
    const pyenv = path.includes('.pyenv');
    out.push({ label: pyenv ? 'pyenv' : 'path', command: 'python3', description: `the python3 on PATH (${path}): numpy with its own bundled BLAS` });
  }
  const want = env['BENCH_PYTHONS']?.split(',').filter((s) => s.length > 0);
  if (want === undefined || want.length === 0) return env['BENCH_QUICK'] === '1' ? out.slice(0, 1) : out;
  return out.filter((p) => want.includes(p.label));
}

function realpath(p: string): string {
  try {
    return realpathSync(p);
  } catch {
    return p;
  }
}

/** The fields of `@basis/tensor`'s EngineInfo the bench prints (kept structural: test-utils does not import @basis/tensor). */
export interface EngineLike {
  provider: 'native' | 'wasm';
  library?: string;
  flavour?: string;
  coreType?: string;
  threads: number;
  reason?: string;
}

/** Short tag for table cells: `native Zen 2t`, `wasm 1t`. */
export function engineTag(e: EngineLike): string {
  return e.provider === 'native' ? `native ${e.coreType ?? e.flavour ?? '?'} ${e.threads}t` : 'wasm 1t';
}
