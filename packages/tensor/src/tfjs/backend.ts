// `@basis/tensor/backend`: detects and selects a tfjs backend. The only module of the library that
// loads backend packages, always lazily (dynamic import), so that importing @basis/tensor never
// registers a backend as a side effect.
import { getBackend, ready, setBackend, version_core } from '@tensorflow/tfjs-core';
import { BasisError } from '../errors.js';
import { applyWasmKernelFixes } from './wasm-fixes.js';

export { applyWasmKernelFixes } from './wasm-fixes.js';

/** A backend preference: `auto` tries tensorflow (tfjs-node-gpu, then tfjs-node), then wasm, then cpu. */
export type BackendPreference = 'auto' | 'tensorflow' | 'wasm' | 'cpu';

/** Whether one candidate backend package can be loaded here. */
export interface BackendCandidate {
  /** tfjs backend name it registers. */
  backend: 'tensorflow' | 'wasm' | 'cpu';
  /** npm package providing it. */
  package: string;
  available: boolean;
  /** Why it could not be loaded (first line of the error). */
  error?: string;
}

/** Result of {@link detectBackends}. */
export interface BackendReport {
  candidates: BackendCandidate[];
  /** tfjs-core version in use. */
  tfjsCore: string;
}

/** The backend in use after {@link selectBackend}. */
export interface ActiveBackend {
  name: string;
  package: string;
  version: string;
  /** Threads the backend computes with (wasm and cpu in Node: 1; 0 = managed by tensorflow's own thread pool). */
  threads: number;
  /** basis kernel fixes registered for this backend. */
  fixesApplied: string[];
}

const PACKAGES: readonly { backend: BackendCandidate['backend']; package: string }[] = [
  { backend: 'tensorflow', package: '@tensorflow/tfjs-node-gpu' },
  { backend: 'tensorflow', package: '@tensorflow/tfjs-node' },
  { backend: 'wasm', package: '@tensorflow/tfjs-backend-wasm' },
  { backend: 'cpu', package: '@tensorflow/tfjs-backend-cpu' },
];

const loaded = new Map<string, { ok: boolean; error?: string }>();

async function tryLoad(pkg: string): Promise<{ ok: boolean; error?: string }> {
  const cached = loaded.get(pkg);
  if (cached !== undefined) return cached;
  let result: { ok: boolean; error?: string };
  try {
    // A variable specifier keeps bundlers from resolving optional packages at build time.
    const specifier = pkg;
    await import(specifier);
    result = { ok: true };
  } catch (e) {
    const msg = (e as Error).message.split('\n')[0] ?? String(e);
    const missing = (e as NodeJS.ErrnoException).code === 'ERR_MODULE_NOT_FOUND' || /Cannot find (package|module)/.test(msg);
    result = { ok: false, error: missing ? 'not installed' : msg };
  }
  loaded.set(pkg, result);
  return result;
}

/**
 * Reports which backend packages load here, loading each candidate once. Loading tfjs-node(-gpu)
 * registers its backend but does not switch to it.
 *
 * @example
 * ```ts
 * import { detectBackends } from '@basis/tensor/backend';
 * (await detectBackends()).candidates.filter((c) => c.available).map((c) => c.package);
 * ```
 */
export async function detectBackends(): Promise<BackendReport> {
  const candidates: BackendCandidate[] = [];
  for (const c of PACKAGES) {
    const r = await tryLoad(c.package);
    candidates.push({ ...c, available: r.ok, ...(r.ok ? {} : { error: r.error ?? 'unknown error' }) });
  }
  return { candidates, tfjsCore: version_core };
}

const INSTALL_HINT: Record<BackendCandidate['backend'], string> = {
  tensorflow: 'install @tensorflow/tfjs-node (or -gpu with CUDA 11) 4.22.0 where its native library can be downloaded',
  wasm: 'install @tensorflow/tfjs-backend-wasm 4.22.0',
  cpu: 'install @tensorflow/tfjs-backend-cpu 4.22.0',
};

async function activate(name: string): Promise<boolean> {
  try {
    const ok = await setBackend(name);
    await ready();
    return ok && getBackend() === name;
  } catch {
    return false;
  }
}

/**
 * Selects and initialises a tfjs backend: `auto` takes tensorflow (tfjs-node-gpu, then tfjs-node)
 * when installed, else wasm (with basis' kernel fixes), else cpu. An explicitly requested backend
 * that cannot be loaded raises `BACKEND_UNAVAILABLE` with an install hint.
 *
 * @example
 * ```ts
 * import { selectBackend } from '@basis/tensor/backend';
 * const active = await selectBackend('auto');
 * console.log(active.name, active.fixesApplied);
 * ```
 */
export async function selectBackend(preference: BackendPreference = 'auto', opts: { wasmFixes?: boolean } = {}): Promise<ActiveBackend> {
  const order: BackendCandidate['backend'][] =
    preference === 'auto' ? ['tensorflow', 'wasm', 'cpu'] : preference === 'tensorflow' || preference === 'wasm' || preference === 'cpu' ? [preference] : [];
  if (order.length === 0) {
    throw new BasisError('INVALID_ARGUMENT', `unknown backend '${String(preference)}'; use auto, tensorflow, wasm or cpu`);
  }
  const failures: string[] = [];
  for (const name of order) {
    for (const c of PACKAGES.filter((p) => p.backend === name)) {
      const r = await tryLoad(c.package);
      if (!r.ok) {
        failures.push(`${c.package}: ${r.error ?? 'failed'}`);
        continue;
      }
      const fixes = name === 'wasm' && opts.wasmFixes !== false ? applyWasmKernelFixes() : [];
      if (!(await activate(name))) {
        failures.push(`${c.package}: loaded but the '${name}' backend failed to initialise`);
        continue;
      }
      return { name, package: c.package, version: version_core, threads: name === 'tensorflow' ? 0 : 1, fixesApplied: fixes };
    }
  }
  throw new BasisError(
    'BACKEND_UNAVAILABLE',
    `no usable tfjs backend for '${preference}' (${failures.join('; ')}); ${INSTALL_HINT[order[order.length - 1] as BackendCandidate['backend']]}`,
  );
}
