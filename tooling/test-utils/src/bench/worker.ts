// A long-lived Python peer for `pnpm bench`: one process per (python, thread count), fed one
// request per line on stdin and answering one JSON line on stdout, so that the bench can time
// basis and its peer on the same case one right after the other (on a shared machine the load
// drifts over minutes; interleaving keeps both sides under the same load).
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { createInterface } from 'node:readline';

/** A Python script started with `--serve`: reads JSON requests, writes one JSON line per request. */
export class PythonWorker {
  private readonly child: ChildProcessWithoutNullStreams;
  private readonly waiting: { resolve: (v: unknown) => void; reject: (e: Error) => void }[] = [];
  private exited: Error | null = null;

  /** Starts `command script --serve` under `env` (stderr goes to this process' stderr). */
  constructor(command: string, script: string, env: NodeJS.ProcessEnv) {
    this.child = spawn(command, [script, '--serve'], { env, stdio: ['pipe', 'pipe', 'pipe'] });
    this.child.stderr.on('data', (b: Buffer) => process.stderr.write(b));
    createInterface({ input: this.child.stdout }).on('line', (line) => {
      const w = this.waiting.shift();
      if (w === undefined) return;
      try {
        const v = JSON.parse(line) as { error?: string };
        if (typeof v === 'object' && v !== null && typeof v.error === 'string') w.reject(new Error(v.error));
        else w.resolve(v);
      } catch {
        w.reject(new Error(`unreadable answer from ${command}: ${line.slice(0, 200)}`));
      }
    });
    const fail = (e: Error) => {
      this.exited = e;
      for (const w of this.waiting.splice(0)) w.reject(e);
    };
    this.child.on('error', fail);
    this.child.on('exit', (code, signal) => fail(new Error(`${command} ${script} exited (${signal ?? code})`)));
  }

  /** Sends one request and waits for its answer (requests are answered in order). */
  request<T>(req: Record<string, unknown>): Promise<T> {
    if (this.exited !== null) return Promise.reject(this.exited);
    return new Promise<T>((resolve, reject) => {
      this.waiting.push({ resolve: resolve as (v: unknown) => void, reject });
      this.child.stdin.write(JSON.stringify(req) + '\n');
    });
  }

  /** Ends the process (closes its stdin; it exits at end of input). */
  close(): void {
    if (this.exited === null) this.child.stdin.end();
  }
}
