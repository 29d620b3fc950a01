// One writer per directory (Node only, `@basis/tensor/node`): an exclusive lock file created
// atomically in the directory, holding its owner's PID, host and start time; stale locks of dead
// processes are taken over; locks are released on exit, including SIGINT/SIGTERM/SIGHUP. Also the
// cleaner of temporary files that interrupted atomic writes leave behind.
import { randomBytes } from 'node:crypto';
import { readFileSync, unlinkSync } from 'node:fs';
import { link, lstat, mkdir, open, readdir, rm, unlink, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { BasisError } from './errors.js';

/**
 * Name of the lock file inside a locked directory.
 *
 * @example
 * ```ts
 * join('runs/mlp', LOCK_FILE); // 'runs/mlp/.basis.lock'
 * ```
 */
export const LOCK_FILE = '.basis.lock';

/**
 * What a lock file records about its owner.
 *
 * @example
 * ```ts
 * const owner = await readDirLock('runs/mlp'); // { pid: 4242, host: 'lab-1', started: '2026-12-07T03:40:00.000Z', command: 'basis train --out runs/mlp', ... }
 * ```
 */
export interface DirLockOwner {
  pid: number;
  host: string;
  /** When the lock was taken (ISO 8601). */
  started: string;
  /** What holds it (the command line or a purpose given to {@link lockDir}). */
  command: string;
  /** Random identity of this lock (tells a lock from its successor after a takeover). */
  token: string;
  /** Linux: start time of the owner process in clock ticks since boot (detects a reused PID). */
  pidStart?: string;
  /** Linux: boot id of the host (detects a lock from before a reboot). */
  bootId?: string;
}

/**
 * A held directory lock. `nested` is true when this process already held the lock (then
 * `release()` does nothing: the outer holder releases it).
 *
 * @example
 * ```ts
 * const lock = await lockDir('runs/mlp', { purpose: 'basis train' });
 * try { ... } finally { await lock.release(); }
 * ```
 */
export interface DirLock {
  readonly dir: string;
  readonly path: string;
  readonly owner: DirLockOwner;
  readonly nested: boolean;
  /** Temporary files and folders of interrupted writes removed when the lock was taken. */
  readonly cleaned: string[];
  release(): Promise<void>;
}

/**
 * Options of {@link lockDir}.
 *
 * @example
 * ```ts
 * const opts: LockDirOptions = { purpose: 'basis reproduce E000-1', cleanDepth: 3, onNotice: (l) => console.error(l) };
 * ```
 */
export interface LockDirOptions {
  /** Recorded in the lock file and shown to a second writer (default: this process's command line). */
  purpose?: string;
  /**
   * Temporary files of interrupted atomic writes are removed from the directory, and from its
   * subfolders down to this depth, once the lock is held (default 3; 0 = the directory only; -1 = none).
   */
  cleanDepth?: number;
  /** Receives the one-line notice when a stale lock is taken over (default: {@link setLockNoticeHandler}'s handler, else stderr). */
  onNotice?: (line: string) => void;
}

let noticeHandler: (line: string) => void = (line) => {
  process.stderr.write(`basis: ${line}\n`);
};

/**
 * Sets where notices of stale-lock takeovers go when {@link lockDir} is not given `onNotice`
 * (default: one line on stderr). The CLI routes them through its `--quiet`-aware output.
 *
 * @example
 * ```ts
 * setLockNoticeHandler((line) => logger.warn(line));
 * ```
 */
export function setLockNoticeHandler(handler: (line: string) => void): void {
  if (typeof handler !== 'function') throw new BasisError('INVALID_ARGUMENT', 'setLockNoticeHandler: handler must be a function');
  noticeHandler = handler;
}

// ---- identity of this process ----

function readProcStat(pid: number): { state: string; start: string } | null {
  try {
    const s = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // fields after the command name (which may contain spaces and parentheses): state is field 3, starttime field 22
    const rest = s.slice(s.lastIndexOf(')') + 2).split(' ');
    const state = rest[0];
    const start = rest[19];
    return state === undefined || start === undefined ? null : { state, start };
  } catch {
    return null;
  }
}

let bootIdCache: string | null | undefined;
function bootId(): string | null {
  if (bootIdCache === undefined) {
    try {
      bootIdCache = readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim() || null;
    } catch {
      bootIdCache = null;
    }
  }
  return bootIdCache;
}

const selfStart = (): string | null => readProcStat(process.pid)?.start ?? null;

function isSelf(o: DirLockOwner): boolean {
  if (o.pid !== process.pid || o.host !== hostname()) return false;
  const mine = selfStart();
  return o.pidStart === undefined || mine === null || o.pidStart === mine;
}

/** 'alive', 'dead' (same host, process gone or its PID reused) or 'unknown' (another host). */
function liveness(o: DirLockOwner): 'alive' | 'dead' | 'unknown' {
  if (o.host !== hostname()) return 'unknown';
  const boot = bootId();
  if (o.bootId !== undefined && boot !== null && o.bootId !== boot) return 'dead';
  try {
    process.kill(o.pid, 0);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ESRCH') return 'dead';
  }
  const st = readProcStat(o.pid);
  if (st !== null && (st.state === 'Z' || st.state === 'X')) return 'dead';
  if (st !== null && o.pidStart !== undefined && st.start !== o.pidStart) return 'dead';
  return 'alive';
}

function describe(o: DirLockOwner): string {
  return `PID ${o.pid} on ${o.host}, started ${o.started}${o.command === '' ? '' : `: ${o.command}`}`;
}

function checkOwner(v: unknown): DirLockOwner | null {
  if (typeof v !== 'object' || v === null) return null;
  const o = v as Record<string, unknown>;
  if (!Number.isSafeInteger(o.pid) || (o.pid as number) <= 0 || typeof o.host !== 'string' || typeof o.started !== 'string' || typeof o.token !== 'string') return null;
  return {
    pid: o.pid as number,
    host: o.host,
    started: o.started,
    command: typeof o.command === 'string' ? o.command : '',
    token: o.token,
    ...(typeof o.pidStart === 'string' ? { pidStart: o.pidStart } : {}),
    ...(typeof o.bootId === 'string' ? { bootId: o.bootId } : {}),
  };
}

type Holder = { kind: 'none' } | { kind: 'owner'; owner: DirLockOwner } | { kind: 'unreadable'; ageMs: number };

async function readHolder(path: string): Promise<Holder> {
  let text: string;
  let ageMs: number;
  try {
    const fh = await open(path, 'r');
    try {
      ageMs = Date.now() - (await fh.stat()).mtimeMs;
      text = await fh.readFile('utf8');
    } finally {
      await fh.close();
    }
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return { kind: 'none' };
    throw new BasisError('IO', `cannot read the lock file '${path}': ${(e as Error).message}`, { cause: e, details: { path } });
  }
  try {
    const owner = checkOwner(JSON.parse(text));
    if (owner !== null) return { kind: 'owner', owner };
  } catch {
    // fall through
  }
  return { kind: 'unreadable', ageMs };
}

/**
 * The owner recorded in `dir`'s lock file, or null when the directory is not locked (or its lock
 * file is unreadable).
 *
 * @example
 * ```ts
 * const o = await readDirLock('runs/mlp');
 * if (o !== null) console.log(`in use by PID ${o.pid}`);
 * ```
 */
export async function readDirLock(dir: string): Promise<DirLockOwner | null> {
  const h = await readHolder(join(dir, LOCK_FILE));
  return h.kind === 'owner' ? h.owner : null;
}

// ---- locks held by this thread, released on exit and on fatal signals ----

const held = new Map<string, DirLockOwner>();
const SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
let hooked = false;

function releaseSync(path: string, token: string): void {
  try {
    const o = checkOwner(JSON.parse(readFileSync(path, 'utf8')));
    if (o?.token === token) unlinkSync(path);
  } catch {
    // already gone or replaced: nothing to release
  }
}

function releaseAllSync(): void {
  for (const [path, o] of held) releaseSync(path, o.token);
  held.clear();
}

function onExit(): void {
  releaseAllSync();
}

const MARK = Symbol.for('basis.lock.signal-handler');

function onSignal(signal: NodeJS.Signals): void {
  // another listener (e.g. `basis train`'s graceful stop on Ctrl-C) handles the signal and
  // releases the lock when its work ends; alone, release now and end the way the signal would
  if (process.listeners(signal).some((l) => !(MARK in l))) return;
  releaseAllSync();
  unhook();
  process.kill(process.pid, signal);
}

Object.defineProperty(onSignal, MARK, { value: true });

function hook(): void {
  if (hooked) return;
  hooked = true;
  process.on('exit', onExit);
  // first in line: a `once` listener of the command is still registered when this one looks
  for (const s of SIGNALS) process.prependListener(s, onSignal);
}

function unhook(): void {
  if (!hooked) return;
  hooked = false;
  process.off('exit', onExit);
  for (const s of SIGNALS) process.off(s, onSignal);
}

// ---- temporary files ----

// writeFileAtomic: `.<name>.<pid>-<12 hex>.tmp` (before: `.<name>.<12 hex>.tmp`); checkpoints: `.<step dir>.tmp-<12 hex>` / `.old-<12 hex>`
const ATOMIC_RE = /^\..+\.(?:(\d+)-)?[0-9a-f]{12}\.tmp$/;
const CHECKPOINT_TMP_RE = /^\..+\.(?:tmp|old)-[0-9a-f]{12}$/;
/** Untagged temporary files are left to their writer for this long when the folder is not locked. */
const UNTAGGED_GRACE_MS = 3_600_000;

function pidAlive(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ESRCH') return false;
  }
  const st = readProcStat(pid);
  return !(st !== null && (st.state === 'Z' || st.state === 'X'));
}
const LOCK_NEW_RE = /^\.basis\.lock\.[0-9a-f]{12}\.new$/;
const TAKEOVER_RE = /^\.basis\.lock\.takeover-[0-9a-f]+$/;

/**
 * Removes the temporary files and folders that interrupted atomic writes of basis leave behind
 * (`.<name>.<pid>-<hex>.tmp` of `writeFileAtomic`, `.<step>.tmp-<hex>` / `.old-<hex>` of
 * checkpoints) from `dir` and its subfolders down to `depth` (hidden folders and symbolic links
 * are not entered). With `locked: true` (the caller holds the folder's lock, as {@link lockDir}
 * does when it calls this) every such leftover goes; otherwise only what cannot belong to a
 * running writer: files tagged with the PID of a process that is no longer running (and untagged
 * ones older than an hour), so a folder shared by several processes (a run cache) can be cleaned
 * safely. Returns the removed paths; a missing `dir` has none.
 *
 * @example
 * ```ts
 * const removed = await cleanTempFiles('basis-reproduce/cache', 3); // e.g. ['.../cache/.ab12.json.4242-0123456789ab.tmp']
 * ```
 */
export async function cleanTempFiles(dir: string, depth = 3, opts: { locked?: boolean } = {}): Promise<string[]> {
  if (!Number.isInteger(depth) || depth < 0) throw new BasisError('INVALID_ARGUMENT', `cleanTempFiles: depth must be an integer >= 0, got ${String(depth)}`);
  const locked = opts.locked === true;
  const stale = async (p: string, name: string): Promise<boolean> => {
    const m = ATOMIC_RE.exec(name);
    if (m === null && !CHECKPOINT_TMP_RE.test(name)) return false;
    if (locked) return true;
    if (m?.[1] !== undefined) return !pidAlive(Number(m[1]));
    try {
      return Date.now() - (await lstat(p)).mtimeMs > UNTAGGED_GRACE_MS;
    } catch {
      return false;
    }
  };
  const removed: string[] = [];
  const walk = async (d: string, left: number): Promise<void> => {
    let names: string[];
    try {
      names = await readdir(d);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'ENOTDIR') return;
      throw new BasisError('IO', `cannot list '${d}': ${(e as Error).message}`, { cause: e, details: { path: d } });
    }
    for (const name of names) {
      const p = join(d, name);
      if (ATOMIC_RE.test(name) || CHECKPOINT_TMP_RE.test(name)) {
        if (await stale(p, name)) {
          await rm(p, { recursive: true, force: true });
          removed.push(p);
        }
        continue;
      }
      if (locked && d === dir && (TAKEOVER_RE.test(name) || LOCK_NEW_RE.test(name))) {
        // a takeover marker or an unlinked candidate lock of another process: stale after a minute
        try {
          if (Date.now() - (await lstat(p)).mtimeMs > 60_000) {
            await rm(p, { force: true });
            removed.push(p);
          }
        } catch {
          // gone meanwhile
        }
        continue;
      }
      if (left > 0 && !name.startsWith('.') && name !== 'node_modules') {
        let st;
        try {
          st = await lstat(p);
        } catch {
          continue;
        }
        if (st.isDirectory()) await walk(p, left - 1);
      }
    }
  };
  await walk(dir, depth);
  return removed;
}

// ---- acquisition ----

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Creates `path` with `text` only if it does not exist (atomically, complete content at once). */
async function createExclusive(path: string, dir: string, text: string): Promise<boolean> {
  const tmp = join(dir, `${LOCK_FILE}.${randomBytes(6).toString('hex')}.new`);
  await writeFile(tmp, text, { flag: 'wx' });
  try {
    await link(tmp, path);
    return true;
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') return false;
    if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'ENOSYS' && code !== 'EOPNOTSUPP') throw e;
  } finally {
    await unlink(tmp).catch(() => undefined);
  }
  // file systems without hard links: O_CREAT|O_EXCL (readers retry while it is briefly empty)
  let fh;
  try {
    fh = await open(path, 'wx');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw e;
  }
  try {
    await fh.writeFile(text);
    await fh.sync();
  } finally {
    await fh.close();
  }
  return true;
}

function busy(dir: string, path: string, o: DirLockOwner, why: string): BasisError {
  return new BasisError(
    'IO',
    `'${dir}' is in use by another basis process (${describe(o)}); ${why} If you are sure no process uses it any more, delete '${path}'.`,
    { details: { path: dir, lock: path, holder: o } },
  );
}

/**
 * Takes the exclusive write lock of `dir` (created if missing): a lock file `dir/.basis.lock`,
 * created atomically, records this process's PID, host, start time and command. If another live
 * process holds it, throws `IO` at once naming the holder; a lock left by a dead process on this
 * host is taken over with a one-line notice; a lock this process already holds gives a `nested`
 * handle. Once held, temporary files of interrupted writes are cleaned ({@link cleanTempFiles}).
 * The lock is released by `release()`, and on process exit and on SIGINT/SIGTERM/SIGHUP when no
 * other handler takes care of the signal. The lock excludes other processes, not concurrent
 * writers inside one process.
 *
 * @example
 * ```ts
 * import { lockDir } from '@basis/tensor/node';
 * const lock = await lockDir('runs/mlp', { purpose: 'basis train --out runs/mlp' });
 * try {
 *   await writeFileAtomic('runs/mlp/train.json', json);
 * } finally {
 *   await lock.release();
 * }
 * ```
 */
export async function lockDir(dir: string, opts: LockDirOptions = {}): Promise<DirLock> {
  if (typeof dir !== 'string' || dir === '') throw new BasisError('INVALID_ARGUMENT', 'lockDir: dir must be a folder path');
  const cleanDepth = opts.cleanDepth ?? 3;
  if (!Number.isInteger(cleanDepth) || cleanDepth < -1) throw new BasisError('INVALID_ARGUMENT', `lockDir: cleanDepth must be an integer >= -1, got ${String(opts.cleanDepth)}`);
  const notice = opts.onNotice ?? noticeHandler;
  try {
    await mkdir(dir, { recursive: true });
  } catch (e) {
    throw new BasisError('IO', `cannot create '${dir}': ${(e as Error).message}`, { cause: e, details: { path: dir } });
  }
  const path = join(dir, LOCK_FILE);
  const pidStart = selfStart();
  const boot = bootId();
  const owner: DirLockOwner = {
    pid: process.pid,
    host: hostname(),
    started: new Date().toISOString(),
    command: opts.purpose ?? ['basis', ...process.argv.slice(2)].join(' ').slice(0, 300),
    token: randomBytes(16).toString('hex'),
    ...(pidStart === null ? {} : { pidStart }),
    ...(boot === null ? {} : { bootId: boot }),
  };
  const text = JSON.stringify(owner, null, 2) + '\n';
  const deadline = Date.now() + 3000;
  for (let attempt = 0; ; attempt++) {
    let created: boolean;
    try {
      created = await createExclusive(path, dir, text);
    } catch (e) {
      throw new BasisError('IO', `cannot create the lock file '${path}': ${(e as Error).message}`, { cause: e, details: { path } });
    }
    if (created) {
      held.set(path, owner);
      hook();
      let cleaned: string[] = [];
      try {
        if (cleanDepth >= 0) cleaned = await cleanTempFiles(dir, cleanDepth, { locked: true });
      } catch (e) {
        await releaseLock(path, owner.token);
        throw e;
      }
      return { dir, path, owner, nested: false, cleaned, release: () => releaseLock(path, owner.token) };
    }
    const h = await readHolder(path);
    if (h.kind === 'none') continue; // released meanwhile: try again
    if (h.kind === 'unreadable') {
      // being written (file systems without hard links) or damaged by a crash while written
      if (h.ageMs > 10_000) {
        await unlink(path).catch(() => undefined);
        notice(`removed an unreadable lock file '${path}' (${Math.round(h.ageMs / 1000)} s old)`);
        continue;
      }
      if (Date.now() > deadline) throw new BasisError('IO', `'${dir}' is locked by another process (its lock file '${path}' is being written or is damaged); wait and retry, or delete the lock file if no process uses the folder`, { details: { path: dir, lock: path } });
      await sleep(50);
      continue;
    }
    const o = h.owner;
    if (isSelf(o)) {
      return { dir, path, owner: o, nested: true, cleaned: [], release: () => Promise.resolve() };
    }
    const state = liveness(o);
    if (state === 'alive') throw busy(dir, path, o, 'wait for it to finish, or use another folder.');
    if (state === 'unknown') throw busy(dir, path, o, `it runs on another host, so basis cannot tell whether it is still running.`);
    // dead holder: one process takes over (the marker file is exclusive per lock token)
    const marker = join(dir, `${LOCK_FILE}.takeover-${o.token.replace(/[^0-9a-f]/g, '').slice(0, 32) || '0'}`);
    let won = false;
    try {
      await writeFile(marker, String(process.pid), { flag: 'wx' });
      won = true;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw new BasisError('IO', `cannot take over the stale lock '${path}': ${(e as Error).message}`, { cause: e, details: { path } });
    }
    if (won) {
      try {
        const again = await readHolder(path);
        if (again.kind === 'owner' && again.owner.token === o.token) {
          await unlink(path).catch(() => undefined);
          notice(`took over the lock of '${dir}' left by a process that is no longer running (${describe(o)})`);
        }
      } finally {
        await unlink(marker).catch(() => undefined);
      }
      continue;
    }
    // another process is taking it over; a marker whose writer died is removed after a while
    if (Date.now() > deadline) {
      await unlink(marker).catch(() => undefined);
    }
    if (attempt > 1000) throw busy(dir, path, o, 'basis could not take over its stale lock.');
    await sleep(20);
  }
}

async function releaseLock(path: string, token: string): Promise<void> {
  const o = held.get(path);
  if (o === undefined || o.token !== token) return;
  held.delete(path);
  try {
    const h = await readHolder(path);
    if (h.kind === 'owner' && h.owner.token === token) await unlink(path);
  } catch {
    // gone already
  }
  if (held.size === 0) unhook();
}

/**
 * Runs `fn` while holding the lock of `dir` ({@link lockDir}), releasing it afterwards.
 *
 * @example
 * ```ts
 * await withDirLock('runs/mlp', { purpose: 'export' }, async () => writeFileAtomic('runs/mlp/x.json', '{}'));
 * ```
 */
export async function withDirLock<T>(dir: string, opts: LockDirOptions, fn: (lock: DirLock) => Promise<T>): Promise<T> {
  const lock = await lockDir(dir, opts);
  try {
    return await fn(lock);
  } finally {
    await lock.release();
  }
}
