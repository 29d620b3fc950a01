import type { Writable } from 'node:stream';
import { Worker } from 'node:worker_threads';

/** State of one progress line. */
export interface ProgressState {
  /** Units done and total (e.g. optimizer steps). */
  done: number;
  total: number;
  /** Short text after the bar (epoch, loss, accuracy). */
  detail: string;
}

/** Seconds as `1m05s` / `42s`. */
export function formatDuration(s: number): string {
  if (!Number.isFinite(s) || s < 0) return '?';
  if (s < 60) return `${Math.round(s)}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m${String(Math.round(s - 60 * m)).padStart(2, '0')}s`;
  return `${Math.floor(m / 60)}h${String(m % 60).padStart(2, '0')}m`;
}

/** `, about 12s left` from the start time and the fraction done (empty when unknown or finished). */
export function etaText(start: number, done: number, total: number, now = performance.now()): string {
  const f = total > 0 ? done / total : 0;
  if (!(f > 0 && f < 1)) return '';
  return `, about ${formatDuration((((now - start) / 1000) * (1 - f)) / f)} left`;
}

/**
 * Progress bars on a stream, one line per task. On a terminal the lines are redrawn in place (at
 * most 10 times a second); elsewhere (pipes, logs, tests), and when `animate` is false (`--json`),
 * only `log` lines are written, so output stays readable. Disabled entirely when `enabled` is
 * false (`--quiet`).
 */
export class ProgressBars {
  private readonly states = new Map<string, ProgressState & { start: number }>();
  private drawn = 0;
  private lastDraw = 0;
  private readonly tty: boolean;
  /** When the last line was written (performance.now()), for {@link tick} and {@link heartbeat}. */
  private lastLine = performance.now();
  private readonly lastTick = new Map<string, number>();
  private readonly stepped = new Set<string>();
  private timer: ReturnType<typeof setInterval> | undefined;
  private beat: HeartbeatWorker | undefined;
  private beatText: (() => string) | undefined;

  constructor(
    private readonly out: Writable,
    private readonly enabled: boolean,
    private readonly width = 24,
    animate = true,
  ) {
    this.tty = enabled && animate && (out as Writable & { isTTY?: boolean }).isTTY === true;
  }

  /** Adds or updates a line. */
  update(label: string, s: ProgressState): void {
    if (!this.enabled) return;
    const prev = this.states.get(label);
    this.states.set(label, { ...s, start: prev?.start ?? performance.now() });
    const now = performance.now();
    if (this.tty && (now - this.lastDraw > 100 || s.done >= s.total)) this.draw();
  }

  /**
   * A step of work that may be slow: updates the bar, and off a terminal writes a line
   * `label done/total (elapsed, about T left)` when at least `everyMs` passed since this label's
   * last line (and always for the first finished and the last step), so long stages are never silent.
   */
  tick(label: string, s: ProgressState, everyMs = 2000): void {
    if (!this.enabled) return;
    this.update(label, s);
    if (this.beat !== undefined && this.beatText !== undefined) this.beat.status(this.beatText());
    if (this.tty) return;
    const now = performance.now();
    const st = this.states.get(label)!;
    const last = this.lastTick.get(label) ?? -Infinity;
    // a stage's first finished step is always written (its first line with an estimate), however
    // soon after the opening 0/N line it comes
    const firstStep = s.done >= 1 && !this.stepped.has(label);
    if (s.done < s.total && now - last < everyMs && !firstStep) return;
    if (s.done >= 1) this.stepped.add(label);
    this.lastTick.set(label, now);
    this.log(`${label} ${s.detail} (${formatDuration((now - st.start) / 1000)}${etaText(st.start, s.done, s.total, now)})`);
  }

  /**
   * Keeps a long run from going silent: every second the bars are redrawn on a terminal (elapsed
   * times move); off a terminal, after `quietMs` without any line, `what()` is written with the
   * time since the last line. Stopped by {@link finish}. On the process's own stderr the check runs
   * on a small worker thread that writes to the file descriptor itself, so it speaks up even while
   * this thread is busy in a long synchronous computation (a recipe's metrics), when no timer of
   * this thread can fire; `what()` is re-read after every line written here.
   */
  heartbeat(what: () => string, quietMs = 5000): void {
    if (!this.enabled || this.timer !== undefined || this.beat !== undefined) return;
    if (!this.tty && this.out === (process.stderr as unknown as Writable)) {
      this.beatText = what;
      this.beat = startHeartbeatWorker(quietMs);
      this.beat.status(what());
      return;
    }
    this.timer = setInterval(() => {
      const now = performance.now();
      if (this.tty) {
        if (this.states.size > 0) this.draw();
      } else if (now - this.lastLine >= quietMs) {
        this.log(`${what()} (${formatDuration((now - this.lastLine) / 1000)} since the last line)`);
      }
    }, 1000);
    this.timer.unref?.();
  }

  /** A permanent message above the bars (or a plain line off a terminal). */
  log(line: string): void {
    if (!this.enabled) return;
    this.lastLine = performance.now();
    if (this.beat !== undefined && this.beatText !== undefined) this.beat.status(this.beatText());
    if (!this.tty) {
      this.out.write(line + '\n');
      return;
    }
    this.clear();
    this.out.write(line + '\n');
    this.draw();
  }

  /** Draws the final state and leaves the bars on screen; stops the heartbeat. */
  finish(): void {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
    this.beat?.stop();
    this.beat = undefined;
    if (!this.tty) return;
    this.draw();
    this.drawn = 0;
  }

  private line(label: string, s: ProgressState & { start: number }): string {
    const f = s.total > 0 ? Math.min(1, s.done / s.total) : 0;
    const full = Math.round(f * this.width);
    const bar = '█'.repeat(full) + '░'.repeat(this.width - full);
    const elapsed = (performance.now() - s.start) / 1000;
    const eta = f > 0 && f < 1 ? ` eta ${formatDuration((elapsed * (1 - f)) / f)}` : '';
    return `${label} ${bar} ${String(Math.floor(100 * f)).padStart(3)}% ${s.detail} ${formatDuration(elapsed)}${eta}`;
  }

  private clear(): void {
    if (this.drawn > 0) this.out.write(`\x1b[${this.drawn}A`);
    for (let i = 0; i < this.drawn; i++) this.out.write('\x1b[2K\n');
    if (this.drawn > 0) this.out.write(`\x1b[${this.drawn}A`);
    this.drawn = 0;
  }

  private draw(): void {
    this.lastDraw = performance.now();
    if (this.drawn > 0) this.out.write(`\x1b[${this.drawn}A`);
    const c = (this.out as Writable & { columns?: number }).columns;
    const cols = c !== undefined && c > 20 ? c : 100;
    for (const [label, s] of this.states) this.out.write(`\x1b[2K${this.line(label, s).slice(0, cols - 1)}\n`);
    this.drawn = this.states.size;
  }
}

/** A heartbeat on its own thread (see {@link ProgressBars.heartbeat}). */
interface HeartbeatWorker {
  /** The message to write after a silence; also marks "a line was just written". */
  status(text: string): void;
  stop(): void;
}

// The worker: every second, when no line was written for quietMs, writes the status with the time
// since the last line straight to fd 2 (never through the main thread, which may be busy).
const HEARTBEAT_SOURCE = `
(async () => {
const { workerData } = await import('node:worker_threads');
const { writeSync } = await import('node:fs');
const { shared, quietMs } = workerData;
const last = new Float64Array(shared, 0, 1);
const len = new Int32Array(shared, 8, 1);
const bytes = new Uint8Array(shared, 12);
const dec = new TextDecoder();
const fmt = (s) => s < 60 ? Math.round(s) + 's' : Math.floor(s / 60) + 'm' + String(Math.round(s % 60)).padStart(2, '0') + 's';
setInterval(() => {
  const now = Date.now();
  const n = Atomics.load(len, 0);
  if (n <= 0 || now - last[0] < quietMs) return;
  const text = dec.decode(bytes.slice(0, n));
  try { writeSync(2, text + ' (' + fmt((now - last[0]) / 1000) + ' since the last line)\\n'); } catch {}
  last[0] = now;
}, 1000);
})();
`;

function startHeartbeatWorker(quietMs: number): HeartbeatWorker {
  const shared = new SharedArrayBuffer(12 + 1024);
  const last = new Float64Array(shared, 0, 1);
  const len = new Int32Array(shared, 8, 1);
  const bytes = new Uint8Array(shared, 12);
  const enc = new TextEncoder();
  last[0] = Date.now();
  const worker = new Worker(HEARTBEAT_SOURCE, { eval: true, execArgv: [], workerData: { shared, quietMs } });
  worker.unref();
  return {
    status(text) {
      const b = enc.encode(text).subarray(0, bytes.length);
      Atomics.store(len, 0, 0);
      bytes.set(b);
      last[0] = Date.now();
      Atomics.store(len, 0, b.length);
    },
    stop() {
      Atomics.store(len, 0, 0);
      void worker.terminate();
    },
  };
}
