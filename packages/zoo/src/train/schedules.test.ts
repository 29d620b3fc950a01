import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { createSchedule, resolveScheduleConfig, type ScheduleConfig } from './schedules.js';

const close = (a: number, b: number): void => expect(a).toBeCloseTo(b, 12);

describe('schedule values at key steps', () => {
  it('constant, with and without warm-up', () => {
    const s = createSchedule({ kind: 'constant', lr: 0.1 });
    close(s(0), 0.1);
    close(s(10_000), 0.1);
    const w = createSchedule({ kind: 'constant', lr: 0.1, warmup: { steps: 10 } });
    close(w(0), 0);
    close(w(5), 0.05);
    close(w(9), 0.09);
    close(w(10), 0.1);
    const f = createSchedule({ kind: 'constant', lr: 0.2, warmup: { steps: 4, startFactor: 0.25 } });
    close(f(0), 0.05);
    close(f(2), 0.2 * (0.25 + 0.75 * 0.5));
    close(f(4), 0.2);
  });

  it('cosine from lr to finalLr', () => {
    const s = createSchedule({ kind: 'cosine', lr: 0.1, finalLr: 0.001, totalSteps: 100 });
    close(s(0), 0.1);
    close(s(25), 0.001 + 0.099 * 0.5 * (1 + Math.cos(Math.PI / 4)));
    close(s(50), (0.1 + 0.001) / 2);
    close(s(100), 0.001);
    close(s(500), 0.001);
  });

  it('cosine with warm-up decays over the remaining steps (the documented example)', () => {
    const s = createSchedule({ kind: 'cosine', lr: 0.1, totalSteps: 100, warmup: { steps: 10 } });
    close(s(0), 0);
    close(s(5), 0.05);
    close(s(10), 0.1);
    close(s(55), 0.05);
    close(s(100), 0);
  });

  it('linear decay', () => {
    const s = createSchedule({ kind: 'linear', lr: 1, finalLr: 0.5, totalSteps: 20, warmup: { steps: 10, startFactor: 0.5 } });
    close(s(0), 0.5);
    close(s(10), 1);
    close(s(15), 0.75);
    close(s(20), 0.5);
  });

  it('step decay by stepSize and by milestones', () => {
    const s = createSchedule({ kind: 'step', lr: 0.1, gamma: 0.1, stepSize: 30 });
    close(s(29), 0.1);
    close(s(30), 0.01);
    close(s(59), 0.01);
    close(s(60), 0.001);
    const m = createSchedule({ kind: 'step', lr: 1, gamma: 0.5, milestones: [10, 25] });
    close(m(9), 1);
    close(m(10), 0.5);
    close(m(24), 0.5);
    close(m(25), 0.25);
    // warm-up ramps to the main schedule's value at its end
    const w = createSchedule({ kind: 'step', lr: 1, gamma: 0.5, stepSize: 4, warmup: { steps: 4 } });
    close(w(2), 0.5 * 0.5);
    close(w(4), 0.5);
  });

  it('takes lr and totalSteps defaults (as train does) and records the resolved config', () => {
    const s = createSchedule({ kind: 'cosine' }, { lr: 0.3, totalSteps: 10 });
    expect(s.config).toEqual({ kind: 'cosine', lr: 0.3, finalLr: 0, totalSteps: 10, warmup: null });
    close(s(5), 0.15);
    // an explicit lr wins over the default
    close(createSchedule({ kind: 'constant', lr: 0.01 }, { lr: 0.3 })(0), 0.01);
    // the resolved config re-creates the same schedule
    const again = createSchedule(s.config);
    for (const t of [0, 3, 7, 10]) expect(again(t)).toBe(s(t));
  });

  it('cosine and linear stay within [finalLr, lr] and never increase after warm-up (property)', () => {
    fc.assert(
      fc.property(
        fc.constantFrom<'cosine' | 'linear'>('cosine', 'linear'),
        fc.double({ min: 1e-4, max: 1, noNaN: true }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        fc.integer({ min: 0, max: 50 }),
        fc.integer({ min: 1, max: 500 }),
        (kind, lr, frac, W, extra) => {
          const finalLr = lr * frac;
          const totalSteps = W + extra;
          const cfg: ScheduleConfig = { kind, lr, finalLr, totalSteps, ...(W > 0 ? { warmup: { steps: W } } : {}) };
          const s = createSchedule(cfg);
          let prev = Infinity;
          for (let t = W; t <= totalSteps + 5; t++) {
            const v = s(t);
            if (v > prev + 1e-15 || v < finalLr - 1e-12 || v > lr + 1e-12) return false;
            prev = v;
          }
          return true;
        },
      ),
      { numRuns: 100 },
    );
  });
});

describe('schedule validation', () => {
  const bad = (c: unknown, msg: string | RegExp, defaults = {}): void => {
    expect(() => resolveScheduleConfig(c, defaults)).toThrow(msg);
  };
  it('names the bad field', () => {
    bad({ kind: 'constant' }, /schedule.lr is required/);
    bad({ kind: 'constant', lr: 0 }, 'schedule.lr must be > 0, got 0');
    bad({ kind: 'cosine', lr: 0.1 }, /schedule.totalSteps is required/);
    bad({ kind: 'cosine', lr: 0.1, totalSteps: 10, warmup: { steps: 10 } }, 'schedule.totalSteps must exceed warmup.steps (10), got 10');
    bad({ kind: 'cosine', lr: 0.1, finalLr: 0.2, totalSteps: 10 }, 'schedule.finalLr must be <= lr (0.1), got 0.2');
    bad({ kind: 'step', lr: 0.1, gamma: 2, stepSize: 3 }, 'schedule.gamma must be <= 1, got 2');
    bad({ kind: 'step', lr: 0.1, gamma: 0.5 }, 'schedule needs exactly one of stepSize and milestones');
    bad({ kind: 'step', lr: 0.1, gamma: 0.5, stepSize: 2, milestones: [3] }, 'schedule needs exactly one of stepSize and milestones');
    bad({ kind: 'step', lr: 0.1, gamma: 0.5, milestones: [5, 5] }, /schedule.milestones\[1\] must be greater/);
    bad({ kind: 'constant', lr: 0.1, warmup: { steps: 0 } }, 'schedule.warmup.steps must be an integer >= 1, got 0');
    bad({ kind: 'constant', lr: 0.1, warmup: { steps: 2, startFactor: 2 } }, 'schedule.warmup.startFactor must be <= 1, got 2');
    bad({ kind: 'exponential', lr: 0.1 }, /schedule.kind must be 'constant', 'cosine', 'linear' or 'step'/);
    bad({ kind: 'constant', lr: 0.1, decay: 1 }, /schedule.decay is not a known option/);
    expect(() => createSchedule({ kind: 'constant', lr: 0.1 })(-1)).toThrow(/step must be an integer >= 0, got -1/);
  });
});
