// Test and benchmark helpers of the job queue (excluded from the build): a real redis-server on
// 127.0.0.1 at a free port, and `basis worker`-equivalent processes started from the TypeScript
// sources. Run as a script (`node --import tsx --conditions=@basis/source test-helpers.ts worker
// URL NAME LOCK_SECONDS [CONCURRENCY]`) it is a worker process.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

/** The redis-server binary, or null when none is installed. */
export function findRedisServer(): string | null {
  for (const p of [process.env['BASIS_REDIS_SERVER'], '/usr/bin/redis-server', '/usr/sbin/redis-server', '/usr/local/bin/redis-server']) {
    if (p !== undefined && p !== '' && existsSync(p)) return p;
  }
  const r = spawnSync('sh', ['-c', 'command -v redis-server'], { encoding: 'utf8' });
  const p = r.stdout.trim();
  return r.status === 0 && p !== '' ? p : null;
}

/** A TCP port on 127.0.0.1 that was free a moment ago. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      const port = typeof a === 'object' && a !== null ? a.port : 0;
      s.close(() => resolve(port));
    });
  });
}

/** A redis-server child process on 127.0.0.1 without persistence (a restart loses every job). */
export class RedisProcess {
  private proc: ChildProcess | null = null;
  private constructor(
    readonly bin: string,
    readonly port: number,
    readonly dir: string,
    readonly extra: string[],
  ) {}

  /** `redis://[:password@]127.0.0.1:PORT`. */
  get url(): string {
    const i = this.extra.indexOf('--requirepass');
    return i >= 0 ? `redis://:${this.extra[i + 1]!}@127.0.0.1:${this.port}` : `redis://127.0.0.1:${this.port}`;
  }

  static async start(bin: string, dir: string, extra: string[] = []): Promise<RedisProcess> {
    const r = new RedisProcess(bin, await freePort(), dir, extra);
    await r.up();
    return r;
  }

  /** The server's process id (null while it is down). */
  get pid(): number | null {
    return this.proc?.pid ?? null;
  }

  /** Starts the server (again, on the same port) and waits until it answers. */
  async up(): Promise<void> {
    const args = ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', this.dir, '--daemonize', 'no', '--loglevel', 'warning', ...this.extra];
    const p = spawn(this.bin, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    this.proc = p;
    let err = '';
    p.stderr?.on('data', (d: Buffer) => (err += d.toString()));
    const deadline = Date.now() + 15_000;
    for (;;) {
      if (p.exitCode !== null) throw new Error(`redis-server exited at once (code ${p.exitCode}): ${err.slice(-400)}`);
      if (await this.answers()) return;
      if (Date.now() > deadline) throw new Error(`redis-server did not answer on port ${this.port} within 15 s`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  private answers(): Promise<boolean> {
    return new Promise((resolve) => {
      const s = connect(this.port, '127.0.0.1');
      s.once('connect', () => {
        s.write('PING\r\n');
      });
      s.once('data', (d) => {
        s.destroy();
        resolve(/PONG|NOAUTH/.test(d.toString()));
      });
      s.once('error', () => resolve(false));
    });
  }

  /** SIGKILLs the server and waits for it to be gone. */
  async kill(): Promise<void> {
    const p = this.proc;
    this.proc = null;
    if (p === null || p.exitCode !== null) return;
    const gone = new Promise((r) => p.once('exit', r));
    p.kill('SIGKILL');
    await gone;
  }
}

/**
 * CPU seconds (user + system, every thread) a live process has used so far, from /proc (Linux);
 * null where /proc cannot be read.
 */
export function processCpuSeconds(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // fields after the command (which may hold spaces) start at the last ')'
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(f[11]) + Number(f[12]);
    return Number.isFinite(ticks) ? ticks / CLOCK_TICKS : null;
  } catch {
    return null;
  }
}

const CLOCK_TICKS = ((): number => {
  const r = spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' });
  const n = Number(r.stdout?.trim());
  return r.status === 0 && n > 0 ? n : 100;
})();

/** A worker process and its log lines. */
export interface WorkerProcess {
  proc: ChildProcess;
  lines: string[];
  /** Resolves with the first log line matching `re` (rejects after `ms`). */
  waitFor(re: RegExp, ms: number): Promise<string>;
  /** Resolves with the exit code (or signal) once the process is gone. */
  exited: Promise<number | string>;
}

const here = dirname(fileURLToPath(import.meta.url));
/** The package folder (tsx resolves from there). */
export const PACKAGE_DIR = join(here, '..', '..');

/** Starts a queue worker process from the TypeScript sources (what `basis worker` runs). */
export function spawnWorker(url: string, name: string, lockSeconds: number, env: Record<string, string> = {}, concurrency = 1): WorkerProcess {
  const proc = spawn(process.execPath, ['--import', 'tsx', '--conditions=@basis/source', fileURLToPath(import.meta.url), 'worker', url, name, String(lockSeconds), String(concurrency)], {
    cwd: PACKAGE_DIR,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const lines: string[] = [];
  const waiters: Array<{ re: RegExp; resolve: (l: string) => void }> = [];
  let buf = '';
  proc.stderr?.on('data', (d: Buffer) => {
    buf += d.toString();
    let i: number;
    while ((i = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, i);
      buf = buf.slice(i + 1);
      lines.push(line);
      for (const w of [...waiters]) {
        if (w.re.test(line)) {
          waiters.splice(waiters.indexOf(w), 1);
          w.resolve(line);
        }
      }
    }
  });
  const exited = new Promise<number | string>((r) => proc.once('exit', (code, sig) => r(code ?? sig ?? -1)));
  return {
    proc,
    lines,
    exited,
    waitFor(re, ms) {
      const hit = lines.find((l) => re.test(l));
      if (hit !== undefined) return Promise.resolve(hit);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          waiters.splice(waiters.indexOf(w), 1);
          reject(new Error(`no log line matching ${String(re)} within ${ms} ms; the worker said:\n${lines.slice(-30).join('\n')}`));
        }, ms);
        const w = {
          re,
          resolve: (l: string): void => {
            clearTimeout(timer);
            resolve(l);
          },
        };
        waiters.push(w);
      });
    },
  };
}

async function workerMain(argv: string[]): Promise<void> {
  const [url, name, lock, concurrency] = argv;
  const { startWorker } = await import('./worker.js');
  const w = await startWorker({
    queue: url!,
    name: name!,
    lockSeconds: Number(lock),
    concurrency: Number(concurrency ?? '1'),
    onLog: (l) => process.stderr.write(`${l}\n`),
  });
  let n = 0;
  const stop = (sig: NodeJS.Signals): void => {
    n++;
    process.stderr.write(n > 1 ? `${sig} again: releasing the running jobs\n` : `${sig}: finishing the running jobs, then stopping\n`);
    void w.stop(n > 1 ? { release: true } : {});
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  await w.done;
  process.stderr.write(`stopped: ${JSON.stringify(w.stats)}\n`);
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href && process.argv[2] === 'worker') {
  await workerMain(process.argv.slice(3));
}
