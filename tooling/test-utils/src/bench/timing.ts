// Timing for `pnpm bench`: best wall time over repetitions, with the process CPU seconds of that
// run (all threads; a loaded machine disturbs it less than wall time).

/** Process CPU seconds so far (user + system, all threads). */
export function cpuSeconds(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
}

/**
 * Best of `reps` runs (after `warmup` untimed runs): wall seconds, and the CPU seconds of the
 * best-wall run. `setup`, when given, runs untimed before each run and its result is passed to `f`
 * (e.g. fresh copies of the inputs, so that per-object memoisation cannot make repeats free without
 * the copying being timed: the peer is not timed copying its inputs either).
 */
export async function timeBest<T = void>(f: (input: T) => unknown, reps = 1, warmup = 0, setup?: () => T): Promise<{ wall: number; cpu: number }> {
  const input = (): T => (setup === undefined ? (undefined as T) : setup());
  for (let i = 0; i < warmup; i++) await f(input());
  let wall = Infinity;
  let cpu = Infinity;
  for (let r = 0; r < Math.max(1, reps); r++) {
    const x = input();
    const t = performance.now();
    const c = cpuSeconds();
    await f(x);
    const w = (performance.now() - t) / 1000;
    const cc = cpuSeconds() - c;
    if (w < wall) {
      wall = w;
      cpu = cc;
    }
  }
  return { wall, cpu };
}
