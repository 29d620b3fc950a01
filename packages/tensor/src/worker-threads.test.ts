import { writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { BasisError } from './errors.js';
import { fromWireError, startWorkers, toShared, toWireError, watchWorker, workerScript } from './worker-threads.js';

describe('worker threads', () => {
  it('workerScript: the built .js file, or the -source.mjs shim with the source condition', () => {
    expect(workerScript('file:///p/dist/model/pool.js', 'train-worker')).toEqual({ url: new URL('file:///p/dist/model/train-worker.js'), execArgv: undefined });
    expect(workerScript('file:///p/src/model/pool.ts', 'train-worker')).toEqual({ url: new URL('file:///p/src/model/train-worker-source.mjs'), execArgv: ['--conditions=@basis/source'] });
  });

  it('toShared copies into shared memory once, and keeps what is already shared', () => {
    const a = new Float64Array([1, 2, 3]);
    const s = toShared(a);
    expect(s.buffer).toBeInstanceOf(SharedArrayBuffer);
    expect(s).toBeInstanceOf(Float64Array);
    expect(Array.from(s)).toEqual([1, 2, 3]);
    expect(s).not.toBe(a);
    expect(toShared(s)).toBe(s);
    const i = toShared(new Int32Array([7, -1]));
    expect(i).toBeInstanceOf(Int32Array);
    expect(Array.from(i)).toEqual([7, -1]);
  });

  it('a BasisError crosses the thread boundary with its code, message and details; other errors are named', () => {
    const e = new BasisError('SHAPE_MISMATCH', 'rows differ', { details: { layer: 'fc1' } });
    const back = fromWireError(structuredClone(toWireError(e)), 'audit worker');
    expect(back).toBeInstanceOf(BasisError);
    expect(back).toMatchObject({ code: 'SHAPE_MISMATCH', message: 'rows differ', details: { layer: 'fc1' } });
    const plain = fromWireError(toWireError(new TypeError('x is undefined')), 'audit worker');
    expect(plain).not.toBeInstanceOf(BasisError);
    expect(plain.message).toBe('audit worker failed: x is undefined');
    expect(fromWireError(toWireError('thrown string'), 'training worker').message).toBe('training worker failed: thrown string');
  });

  it('startWorkers rejects a bad count; watchWorker reports a thread that dies', async () => {
    expect(() => startWorkers({ url: new URL('file:///none.js'), execArgv: undefined }, 0)).toThrow(/positive integer number of workers, got 0/);
    const dir = mkdtempSync(join(tmpdir(), 'basis-workers-'));
    try {
      const file = join(dir, 'w.mjs');
      writeFileSync(file, "import { parentPort } from 'node:worker_threads';\nparentPort.once('message', (m) => { if (m === 'throw') throw new Error('boom'); process.exit(3); });\n");
      const [a, b] = startWorkers({ url: pathToFileURL(file), execArgv: undefined }, 2);
      const failures = (w: NonNullable<typeof a>) =>
        new Promise<BasisError>((resolve) => {
          watchWorker(w, 'a test worker', () => false, resolve);
        });
      const fa = failures(a!);
      const fb = failures(b!);
      a!.postMessage('throw');
      b!.postMessage('exit');
      const [ea, eb] = await Promise.all([fa, fb]);
      expect(ea).toMatchObject({ code: 'BACKEND_UNAVAILABLE', message: 'a test worker thread failed: boom' });
      expect(eb).toMatchObject({ code: 'BACKEND_UNAVAILABLE', message: 'a test worker thread exited early (code 3)' });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
