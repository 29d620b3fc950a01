// Directory locks across real processes: exclusion with the holder named, stale takeover (dead PID,
// reused PID), nesting, release on exit and on SIGINT/SIGTERM, a many-process race with exactly one
// winner, and the temp-file cleaner.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { BasisError } from './errors.js';
import { LOCK_FILE, cleanTempFiles, lockDir, readDirLock, withDirLock } from './lock.js';

const root = mkdtempSync(join(tmpdir(), 'basis-lock-'));
let n = 0;
const fresh = (): string => {
  const d = join(root, `d${n++}`);
  mkdirSync(d);
  return d;
};
const PKG = fileURLToPath(new URL('..', import.meta.url));
const LOCK_TS = fileURLToPath(new URL('./lock.ts', import.meta.url));

/** A child process that takes the lock of `dir`, prints a line, then waits (or exits at once with `exit`). */
const CHILD = join(root, 'child.mts');
writeFileSync(
  CHILD,
  `import { lockDir } from ${JSON.stringify(LOCK_TS)};
const [dir, mode] = process.argv.slice(2);
let held;
// a command's own graceful Ctrl-C handler, registered before the lock (as basis reproduce does)
if (mode === 'graceful') process.once('SIGINT', async () => { console.log('GRACEFUL'); await held.release(); process.exit(130); });
try {
  const l = await lockDir(dir, { purpose: 'test holder', onNotice: (s) => console.log('NOTICE ' + s) });
  held = l;
  console.log('LOCKED ' + l.owner.token);
  if (mode === 'wait' || mode === 'graceful') setInterval(() => {}, 1000);
} catch (e) {
  console.log('FAILED ' + e.code + ' ' + e.message);
}
`,
);

/** A child process that takes the lock of `dir`, prints a line, then waits (or exits at once with `exit`). */
function holder(dir: string, mode: 'wait' | 'exit' | 'graceful' = 'wait'): { child: ChildProcess; out: Promise<string>; line: Promise<string> } {
  const child = spawn(process.execPath, ['--import', 'tsx', CHILD, dir, mode], { cwd: PKG, stdio: ['ignore', 'pipe', 'inherit'] });
  let buf = '';
  let resolveLine: (s: string) => void;
  const line = new Promise<string>((r) => (resolveLine = r));
  child.stdout!.on('data', (d: Buffer) => {
    buf += d.toString();
    if (/^(LOCKED|FAILED) /m.test(buf)) resolveLine(buf);
  });
  const out = new Promise<string>((r) => child.on('exit', () => r(buf)));
  return { child, out, line };
}

async function deadPid(): Promise<number> {
  const c = spawn(process.execPath, ['-e', '0']);
  await new Promise((r) => c.on('exit', r));
  return c.pid!;
}

function fakeLock(dir: string, o: Record<string, unknown>): void {
  writeFileSync(join(dir, LOCK_FILE), JSON.stringify({ host: hostname(), started: '2026-01-01T00:00:00.000Z', command: 'fake', token: 'ab'.repeat(16), ...o }));
}

describe('lockDir', () => {
  it('creates the lock file with owner data, gives nested handles in-process and releases', async () => {
    const d = fresh();
    const lock = await lockDir(d, { purpose: 'unit test' });
    expect(lock.nested).toBe(false);
    const o = await readDirLock(d);
    expect(o).toMatchObject({ pid: process.pid, host: hostname(), command: 'unit test', token: lock.owner.token });
    expect(new Date(o!.started).getTime()).toBeGreaterThan(Date.now() - 60_000);
    const inner = await lockDir(d);
    expect(inner.nested).toBe(true);
    await inner.release();
    expect(existsSync(join(d, LOCK_FILE))).toBe(true);
    await lock.release();
    expect(existsSync(join(d, LOCK_FILE))).toBe(false);
    expect(readdirSync(d)).toEqual([]);
    // withDirLock releases after an error too
    await expect(withDirLock(d, {}, async () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    expect(existsSync(join(d, LOCK_FILE))).toBe(false);
  });

  it('a second process gets IO at once naming the holder; the lock is free after the holder exits', async () => {
    const d = fresh();
    const h = holder(d);
    expect(await h.line).toMatch(/^LOCKED /);
    const t0 = performance.now();
    const err = await lockDir(d).catch((e: unknown) => e);
    expect(performance.now() - t0).toBeLessThan(1000);
    expect(err).toBeInstanceOf(BasisError);
    expect((err as BasisError).code).toBe('IO');
    expect((err as BasisError).message).toContain(`PID ${h.child.pid} on ${hostname()}`);
    expect((err as BasisError).message).toContain('test holder');
    expect((err as BasisError).message).toContain(join(d, LOCK_FILE));
    h.child.kill('SIGTERM');
    await h.out;
    // released by the holder's SIGTERM handler: no stale-takeover notice needed
    expect(existsSync(join(d, LOCK_FILE))).toBe(false);
    const notices: string[] = [];
    const l = await lockDir(d, { onNotice: (s) => notices.push(s) });
    expect(notices).toEqual([]);
    await l.release();
  });

  it.each(['SIGINT', 'SIGTERM'] as const)('the holder releases on %s and dies of it', async (sig) => {
    const d = fresh();
    const h = holder(d);
    await h.line;
    expect(existsSync(join(d, LOCK_FILE))).toBe(true);
    const exited = new Promise<NodeJS.Signals | null>((r) => h.child.on('exit', (_c, s) => r(s)));
    h.child.kill(sig);
    expect(await exited).toBe(sig);
    expect(existsSync(join(d, LOCK_FILE))).toBe(false);
  });

  it("leaves SIGINT to the command's own handler (registered before or after the lock), which releases it", async () => {
    const d = fresh();
    const h = holder(d, 'graceful');
    await h.line;
    const exited = new Promise<[number | null, NodeJS.Signals | null]>((r) => h.child.on('exit', (c, s) => r([c, s])));
    h.child.kill('SIGINT');
    expect(await exited).toEqual([130, null]);
    expect(await h.out).toMatch(/GRACEFUL/);
    expect(existsSync(join(d, LOCK_FILE))).toBe(false);
  });

  it('takes over a stale lock of a dead process (and of a reused PID) with one notice', async () => {
    const d = fresh();
    fakeLock(d, { pid: await deadPid() });
    const notices: string[] = [];
    const l = await lockDir(d, { onNotice: (s) => notices.push(s) });
    expect(notices).toHaveLength(1);
    expect(notices[0]).toMatch(/took over the lock of .* left by a process that is no longer running \(PID \d+ on /);
    expect((await readDirLock(d))!.token).toBe(l.owner.token);
    await l.release();
    // our own PID with another start time: a previous process whose PID we got
    if (existsSync('/proc/self/stat')) {
      fakeLock(d, { pid: process.pid, pidStart: '1' });
      const notes: string[] = [];
      const l2 = await lockDir(d, { onNotice: (s) => notes.push(s) });
      expect(l2.nested).toBe(false);
      expect(notes).toHaveLength(1);
      await l2.release();
      // a live process other than us with another start time (PID reused by an unrelated process)
      const h = holder(fresh(), 'wait');
      await h.line;
      fakeLock(d, { pid: h.child.pid, pidStart: '1' });
      const l3 = await lockDir(d, { onNotice: () => undefined });
      await l3.release();
      h.child.kill('SIGTERM');
      await h.out;
    }
  });

  it('a lock from another host is never taken over', async () => {
    const d = fresh();
    fakeLock(d, { pid: 1, host: 'some-other-host' });
    const err = (await lockDir(d).catch((e: unknown) => e)) as BasisError;
    expect(err.code).toBe('IO');
    expect(err.message).toMatch(/PID 1 on some-other-host.*another host/);
    expect(existsSync(join(d, LOCK_FILE))).toBe(true);
  });

  it('a race of 6 processes for one folder: exactly one holds it, the others fail naming it', async () => {
    for (let trial = 0; trial < 2; trial++) {
      const d = fresh();
      if (trial === 1) fakeLock(d, { pid: await deadPid() }); // and all of them find a stale lock
      const hs = Array.from({ length: 6 }, () => holder(d, 'wait'));
      const lines = await Promise.all(hs.map((h) => h.line));
      const winners = lines.filter((l) => l.includes('LOCKED '));
      expect(winners, lines.join('')).toHaveLength(1);
      const token = /LOCKED (\w+)/.exec(winners[0]!)![1];
      expect((await readDirLock(d))!.token).toBe(token);
      for (const l of lines.filter((x) => !x.includes('LOCKED '))) expect(l).toMatch(/FAILED IO .*in use by another basis process \(PID \d+/);
      for (const h of hs) h.child.kill('SIGTERM');
      await Promise.all(hs.map((h) => h.out));
      expect(existsSync(join(d, LOCK_FILE))).toBe(false);
    }
  }, 60_000);

  it('rejects bad arguments', async () => {
    await expect(lockDir('')).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(lockDir(fresh(), { cleanDepth: 1.5 })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    const f = join(fresh(), 'file');
    writeFileSync(f, 'x');
    await expect(lockDir(f)).rejects.toMatchObject({ code: 'IO' });
  });
});

describe('cleanTempFiles', () => {
  it('removes leftovers of interrupted atomic writes (files and checkpoint folders) down to the depth, nothing else', async () => {
    const d = fresh();
    mkdirSync(join(d, 'models', 'k1', '.step-000000010.tmp-0123456789ab'), { recursive: true });
    mkdirSync(join(d, 'deep', 'a', 'b', 'c'), { recursive: true });
    const junk = [
      join(d, '.result.json.0123456789ab.tmp'),
      join(d, 'models', '.summary.json.abcdefabcdef.tmp'),
      join(d, 'models', 'k1', '.model.safetensors.00112233aabb.tmp'),
    ];
    for (const f of junk) writeFileSync(f, '');
    const keep = [join(d, 'result.json'), join(d, '.result.json.tmp'), join(d, 'x.0123456789ab.tmp'), join(d, 'models', 'k1', 'model.safetensors'), join(d, 'deep', 'a', 'b', 'c', '.f.0123456789ab.tmp')];
    for (const f of keep) writeFileSync(f, 'data');
    const removed = await cleanTempFiles(d, 2, { locked: true });
    expect(removed.sort()).toEqual([...junk, join(d, 'models', 'k1', '.step-000000010.tmp-0123456789ab')].sort());
    for (const f of keep) expect(readFileSync(f, 'utf8')).toBe('data');
    expect(await cleanTempFiles(join(d, 'missing'))).toEqual([]);
    // unlocked: only leftovers of writers that are gone (tagged with a dead PID), never a live writer's
    const dead = await deadPid();
    const mine = join(d, `.a.json.${process.pid}-0123456789ab.tmp`);
    const gone = join(d, `.b.json.${dead}-0123456789ab.tmp`);
    const untagged = join(d, '.c.json.0123456789ab.tmp');
    for (const f of [mine, gone, untagged]) writeFileSync(f, '');
    expect(await cleanTempFiles(d, 0)).toEqual([gone]);
    expect([mine, untagged].every((f) => existsSync(f))).toBe(true);
    await expect(cleanTempFiles(d, -1)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
  });

  it('lockDir cleans a 0-byte temp file left by a killed writer', async () => {
    const d = fresh();
    mkdirSync(join(d, 'cache'));
    const tmp = join(d, 'cache', `.0a1b.json.${process.pid}-a1b2c3d4e5f6.tmp`);
    writeFileSync(tmp, '');
    const l = await lockDir(d);
    expect(l.cleaned).toEqual([tmp]);
    expect(existsSync(tmp)).toBe(false);
    await l.release();
  });
});
