// The numpy/scipy side of a bench: one long-lived `script --serve` process per (python, thread
// count), each timing a case right after basis timed it, so that both sides see the same load.
import { findPythons, peerSummary, probePeer, threadEnv, type PeerInfo } from './peers.js';
import { PythonWorker } from './worker.js';

/** One numpy peer: a python at a thread count, and what it measured (seconds per case key). */
export interface NumpyPeerRun {
  python: string;
  threads: number;
  info: PeerInfo | null;
  worker: PythonWorker;
  times: Record<string, number>;
  cpu: Record<string, number>;
  /** Why its process is gone (no further case is sent to it). */
  failed?: string;
}

/**
 * The numpy peers of a bench: every python of {@link findPythons} at every thread count (same
 * environment, {@link threadEnv}), each serving `script` (a `numpy_ref.py --serve` answering
 * `{ seconds, cpu }` per request). Failures are collected in {@link NumpyPeers.note}, not thrown.
 *
 * @example
 * ```ts
 * const peers = new NumpyPeers(fileURLToPath(new URL('./numpy_ref.py', import.meta.url)), [1, 2], 'numpy', log);
 * await peers.time('gemm@1024', { name: 'gemm', n: 1024 });
 * peers.close();
 * peers.find('system', 1)?.times['gemm@1024'];
 * ```
 */
export class NumpyPeers {
  readonly runs: NumpyPeerRun[] = [];
  /** Why there are no peers, and every case a peer failed, for the bench's report. */
  note = '';

  /** Starts the peers; `needs` names what the script imports (for the note when no python has it). */
  constructor(
    script: string,
    threads: readonly number[],
    needs: string,
    private readonly log: (line: string) => void,
  ) {
    const pythons = findPythons();
    if (pythons.length === 0) {
      this.note = process.env['BASIS_SKIP_PYTHON'] === '1' ? 'numpy comparison skipped (BASIS_SKIP_PYTHON=1)' : `numpy comparison skipped: no python3 with ${needs}`;
    }
    for (const p of pythons) {
      for (const t of threads) {
        const env = threadEnv(t);
        const info = probePeer(p.command, p.label, env);
        log(`numpy ${p.label} ${t}t: ${info === null ? 'BLAS unknown' : peerSummary(info)}`);
        this.runs.push({ python: p.label, threads: t, info, worker: new PythonWorker(p.command, script, env), times: {}, cpu: {} });
      }
    }
  }

  /** Times case `key` (request `req`) on every live peer that `only` keeps (default all), one after the other. */
  async time(key: string, req: Record<string, unknown>, only: (r: NumpyPeerRun) => boolean = () => true): Promise<void> {
    for (const r of this.runs) {
      if (r.failed !== undefined || !only(r)) continue;
      try {
        const out = await r.worker.request<{ seconds: number; cpu: number }>(req);
        r.times[key] = out.seconds;
        r.cpu[key] = out.cpu;
        this.log(`  numpy-${r.python}-${r.threads}t ${key}: ${out.seconds.toFixed(3)} s (cpu ${out.cpu.toFixed(3)} s)`);
      } catch (e) {
        const msg = (e as Error).message.split('\n')[0] ?? '';
        if (/exited/.test(msg)) r.failed = msg;
        this.note += `numpy ${r.python} ${r.threads}t ${key}: ${msg}. `;
      }
    }
  }

  /** The peer of python `label` at `threads` threads. */
  find(label: string, threads: number): NumpyPeerRun | undefined {
    return this.runs.find((r) => r.python === label && r.threads === threads);
  }

  /** The pythons, in {@link findPythons}' order (the system one first). */
  labels(): string[] {
    return [...new Set(this.runs.map((r) => r.python))];
  }

  /** Ends every peer's process. */
  close(): void {
    for (const r of this.runs) r.worker.close();
  }

  /** The peers and their times, without the processes, for bench-results/. */
  results(): Omit<NumpyPeerRun, 'worker'>[] {
    return this.runs.map(({ worker: _w, ...r }) => r);
  }

  /** Prints one line per peer naming its BLAS, core type and threads. */
  printSummary(): void {
    for (const r of this.runs) if (r.info !== null) console.log(`numpy-${r.python} ${r.threads}t: ${peerSummary(r.info)}`);
  }
}
