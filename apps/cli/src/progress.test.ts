import { spawnSync } from 'node:child_process';
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ProgressBars, etaText } from './progress.js';

/** A non-terminal stream that keeps what was written. */
function sink(): Writable & { text: () => string } {
  const chunks: string[] = [];
  const w = new Writable({
    write(c: Buffer, _e, cb) {
      chunks.push(c.toString());
      cb();
    },
  }) as Writable & { text: () => string };
  w.text = () => chunks.join('');
  return w;
}

afterEach(() => vi.useRealTimers());

describe('progress off a terminal', () => {
  it('tick writes each slow step with elapsed time and an estimate, fast steps at most every 2 s, the last one never (the caller logs completion)', () => {
    vi.useFakeTimers({ toFake: ['performance', 'Date', 'setInterval', 'clearInterval'] });
    const out = sink();
    const bars = new ProgressBars(out, true);
    bars.tick('E002-1: pairs compared', { done: 0, total: 3, detail: '0/3' });
    vi.advanceTimersByTime(500);
    bars.tick('E002-1: pairs compared', { done: 0.5, total: 3, detail: '0/3' }); // < 2 s after the last line: quiet
    vi.advanceTimersByTime(13_500);
    bars.tick('E002-1: pairs compared', { done: 1, total: 3, detail: '1/3' });
    vi.advanceTimersByTime(14_000);
    bars.tick('E002-1: pairs compared', { done: 2, total: 3, detail: '2/3' });
    expect(out.text().trim().split('\n')).toEqual(['E002-1: pairs compared 0/3 (0s)', 'E002-1: pairs compared 1/3 (14s, about 28s left)', 'E002-1: pairs compared 2/3 (28s, about 14s left)']);
  });

  it('the heartbeat breaks a silence of 5 s with what ran last, and stops at finish', () => {
    vi.useFakeTimers({ toFake: ['performance', 'Date', 'setInterval', 'clearInterval'] });
    const out = sink();
    const bars = new ProgressBars(out, true);
    bars.log('E002-1: models trained 4/4 (30s)');
    bars.heartbeat(() => 'E002-1: working (last: models trained 4/4)');
    vi.advanceTimersByTime(4_000);
    expect(out.text().split('\n').filter((l) => l !== '')).toHaveLength(1);
    vi.advanceTimersByTime(1_000);
    expect(out.text()).toContain('E002-1: working (last: models trained 4/4) (5s since the last line)');
    vi.advanceTimersByTime(5_000);
    expect(out.text().match(/working/g)).toHaveLength(2);
    bars.finish();
    vi.advanceTimersByTime(20_000);
    expect(out.text().match(/working/g)).toHaveLength(2);
  });

  it('--quiet writes nothing', () => {
    vi.useFakeTimers({ toFake: ['performance', 'Date', 'setInterval', 'clearInterval'] });
    const out = sink();
    const bars = new ProgressBars(out, false);
    bars.heartbeat(() => 'x');
    bars.tick('a', { done: 1, total: 2, detail: '1/2' });
    vi.advanceTimersByTime(20_000);
    expect(out.text()).toBe('');
  });

  it('estimates the time left from the fraction done', () => {
    expect(etaText(0, 1, 4, 3000)).toBe(', about 9s left');
    expect(etaText(0, 0, 4, 3000)).toBe('');
    expect(etaText(0, 4, 4, 3000)).toBe('');
  });

  it('on the real stderr the heartbeat speaks even while the main thread is blocked by a synchronous computation (the built CLI)', () => {
    const dist = fileURLToPath(new URL('../dist/progress.js', import.meta.url));
    const script = `const { ProgressBars } = await import(${JSON.stringify(dist)});
const bars = new ProgressBars(process.stderr, true);
bars.log('E002-1: models trained 3/3');
bars.heartbeat(() => 'E002-1: working (last: models trained 3/3)', 1000);
await new Promise((r) => setTimeout(r, 200));
const end = Date.now() + 3500; while (Date.now() < end); // 3.5 s without yielding to the event loop
bars.log('E002-1: pairs compared 1/3');
bars.finish();`;
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', timeout: 30_000 });
    expect(r.status, r.stderr).toBe(0);
    const lines = r.stderr.trim().split('\n');
    expect(lines[0]).toBe('E002-1: models trained 3/3');
    expect(lines.at(-1)).toBe('E002-1: pairs compared 1/3');
    const beats = lines.filter((l) => /^E002-1: working \(last: models trained 3\/3\) \(\d+s since the last line\)$/.test(l));
    expect(beats.length).toBeGreaterThanOrEqual(2);
  });
});
