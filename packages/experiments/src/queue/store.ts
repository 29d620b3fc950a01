// The artifact store of distributed runs: content-addressed files every worker and the submitter
// can reach. The default is a shared directory (NFS, a cluster's shared filesystem, or a local
// folder for workers on one machine); an object store can implement the same interface later.
import { mkdir, readFile, stat } from 'node:fs/promises';
import { dirname, isAbsolute, join, normalize, resolve } from 'node:path';
import { BasisError } from '@basis/tensor';
import { writeFileAtomic } from '@basis/tensor/node';

/**
 * Where the results of queued jobs live. Paths are relative, `/`-separated, and name content
 * (`models/<key>/summary.json`): an artifact that exists is complete (written atomically, last)
 * and is never recomputed.
 *
 * @example
 * ```ts
 * const store: ArtifactStore = openStore({ kind: 'dir', root: '/shared/basis-cache' });
 * if (!(await store.has('models/<key>/summary.json'))) { ... }
 * ```
 */
export interface ArtifactStore {
  /** What a job payload records to reach this store from another machine. */
  readonly spec: StoreSpec;
  /** For logs. */
  readonly description: string;
  /** True when the artifact exists (complete). */
  has(path: string): Promise<boolean>;
  /** Its bytes, or null when absent. */
  read(path: string): Promise<Uint8Array | null>;
  /** Writes an artifact atomically (readers see the old state or the whole new file, never a part). */
  write(path: string, bytes: Uint8Array | string): Promise<void>;
  /**
   * A local folder holding the store's files, when the store is a filesystem (training writes its
   * checkpoints there directly); null for a store without one (an object store).
   */
  localRoot(): string | null;
}

/**
 * How a job names its store: today a shared directory (`root`, an absolute path that every worker
 * sees at the same place).
 *
 * @example
 * ```ts
 * const spec: StoreSpec = { kind: 'dir', root: '/shared/basis-cache' };
 * ```
 */
export type StoreSpec = { kind: 'dir'; root: string };

function checkPath(p: string): string {
  if (typeof p !== 'string' || p === '' || isAbsolute(p) || normalize(p).split(/[\\/]/).includes('..')) {
    throw new BasisError('INVALID_ARGUMENT', `artifact store: '${String(p)}' is not a relative path inside the store`);
  }
  return p;
}

class DirStore implements ArtifactStore {
  readonly spec: StoreSpec;
  readonly description: string;
  constructor(readonly root: string) {
    this.spec = { kind: 'dir', root };
    this.description = `shared folder ${root}`;
  }
  async has(path: string): Promise<boolean> {
    try {
      return (await stat(join(this.root, checkPath(path)))).isFile();
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT' || (e as NodeJS.ErrnoException).code === 'ENOTDIR') return false;
      throw new BasisError('IO', `artifact store ${this.root}: cannot check ${path}: ${(e as Error).message}`, { cause: e });
    }
  }
  async read(path: string): Promise<Uint8Array | null> {
    try {
      return new Uint8Array(await readFile(join(this.root, checkPath(path))));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw new BasisError('IO', `artifact store ${this.root}: cannot read ${path}: ${(e as Error).message}`, { cause: e });
    }
  }
  async write(path: string, bytes: Uint8Array | string): Promise<void> {
    const full = join(this.root, checkPath(path));
    await mkdir(dirname(full), { recursive: true });
    await writeFileAtomic(full, bytes);
  }
  localRoot(): string {
    return this.root;
  }
}

/**
 * Opens the store a {@link StoreSpec} names. A shared directory must be an absolute path (a job
 * is run by workers whose working directories differ).
 *
 * @example
 * ```ts
 * const store = openStore({ kind: 'dir', root: resolve('runs/cache') });
 * await store.write('notes/hello.json', '{}');
 * ```
 */
export function openStore(spec: StoreSpec): ArtifactStore {
  if (spec === null || typeof spec !== 'object' || spec.kind !== 'dir') {
    throw new BasisError('CONFIG_INVALID', `artifact store: unknown kind ${JSON.stringify((spec as { kind?: unknown } | null)?.kind)}; only { kind: 'dir', root } (a shared directory) exists`, { details: { field: 'store.kind' } });
  }
  if (typeof spec.root !== 'string' || !isAbsolute(spec.root)) {
    throw new BasisError('CONFIG_INVALID', `artifact store: root must be an absolute folder path every worker can reach, got ${JSON.stringify(spec.root)}`, { details: { field: 'store.root' } });
  }
  return new DirStore(resolve(spec.root));
}

/**
 * The artifact that marks a trained model of the run cache as complete (the run context writes it
 * last, atomically).
 *
 * @example
 * ```ts
 * modelArtifact(key); // 'models/<key>/summary.json'
 * ```
 */
export function modelArtifact(key: string): string {
  return `models/${key}/summary.json`;
}
