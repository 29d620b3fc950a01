// The engine's threads: one budget (BASIS_THREADS / --threads / configureEngine, default every
// core), shared by worker pools; the native libraries keep ONE thread count per process (a worker
// thread that sets it changes it for the main thread too), so pools hold it with limitThreads.
import { afterEach, describe, expect, it } from 'vitest';
import { BasisError } from '../errors.js';
import { availableCores, configureEngine, engineInfo, limitThreads, parseThreads, threadBudget, workerEngine } from './engine.js';

const initial = engineInfo();
const initialBudget = threadBudget();

afterEach(() => {
  configureEngine({ blas: initial.requested, threads: initialBudget });
  expect(engineInfo()).toEqual(initial);
});

describe('thread budget', () => {
  it('defaults to BASIS_THREADS or every core; all means every core', () => {
    const env = process.env['BASIS_THREADS'];
    expect(initialBudget).toBe(env === undefined || env === '' ? availableCores() : parseThreads(env));
    expect(parseThreads('all')).toBe(availableCores());
  });

  it('is set by configureEngine on every provider; workers get equal shares of it, at least one thread', () => {
    configureEngine({ threads: 5 });
    expect(threadBudget()).toBe(5);
    expect(workerEngine(1)).toEqual({ blas: initial.requested, threads: 5 });
    expect(workerEngine(2).threads).toBe(2);
    expect(workerEngine(8).threads).toBe(1);
    expect(() => workerEngine(0)).toThrow(BasisError);
    expect(() => workerEngine(1.5)).toThrow(/workers must be a positive integer/);
    expect(engineInfo().threads).toBe(initial.provider === 'native' ? 5 : 1);
    // switching the provider keeps the budget
    configureEngine({ blas: initial.requested === 'off' ? 'auto' : 'off' });
    expect(threadBudget()).toBe(5);
  });

  it.runIf(initial.provider === 'native')('limitThreads caps the process-wide count until released; holds nest, the smallest applies', () => {
    configureEngine({ threads: 3 });
    const outer = limitThreads(2);
    expect(engineInfo().threads).toBe(2);
    const inner = limitThreads(1);
    expect(engineInfo().threads).toBe(1);
    outer();
    expect(engineInfo().threads).toBe(1);
    inner();
    inner(); // releasing twice is harmless
    expect(engineInfo().threads).toBe(3);
    // a hold survives a change of the caller's own count
    const hold = limitThreads(1);
    configureEngine({ threads: 2 });
    expect(engineInfo().threads).toBe(1);
    hold();
    expect(engineInfo().threads).toBe(2);
  });

  it.runIf(initial.provider === 'wasm')('limitThreads is a no-op on WebAssembly (one thread)', () => {
    const release = limitThreads(1);
    expect(engineInfo().threads).toBe(1);
    release();
    expect(() => limitThreads(0)).toThrow(BasisError);
  });
});
