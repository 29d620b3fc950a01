// Training settings, presets, the train config file and the --data grammar: parsed once (a parsed
// value is trusted and frozen), defaults and derived values computed in one place.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isParsed } from '@basis/tensor';
import { parseDataArg } from '../model/data-arg.js';
import { DataSpecSchema, parseDataSpec } from '../model/data-spec.js';
import { ModelSpecSchema, parseModelSpec } from '../model/model-spec.js';
import { TRAINING_PRESETS, defaultTrainSettings } from './presets.js';
import { parseTrainConfigFile } from './train-config.js';
import { TrainSettingsSchema, parseTrainSettings, resolveTrainSettings, stepsPerEpoch, withSeed, withoutLongWarmup } from './train-settings.js';

const msg = (f: () => unknown): string => {
  try {
    f();
  } catch (e) {
    return `${(e as { code: string }).code}: ${(e as Error).message}`;
  }
  return 'no error';
};

describe('training settings', () => {
  it('the presets and defaults are parsed, frozen values', () => {
    for (const p of Object.values(TRAINING_PRESETS)) {
      expect(isParsed(TrainSettingsSchema, p.train) && isParsed(ModelSpecSchema, p.model) && isParsed(DataSpecSchema, p.data)).toBe(true);
      expect(Object.isFrozen(p.train.optimizer)).toBe(true);
    }
    expect(defaultTrainSettings({ arch: 'mlp' }, { dataset: 'mnist' })).toBe(TRAINING_PRESETS.mlpMnist.train);
    expect(defaultTrainSettings({ arch: 'minimyrtle' }, { dataset: 'fashion' })).toBe(TRAINING_PRESETS.miniMyrtleFashion.train);
    expect(defaultTrainSettings({ arch: 'transformer' }, { dataset: 'modadd' }).optimizer).toEqual({ kind: 'adamw', lr: 1e-3, weightDecay: 0.1 });
    const generic = defaultTrainSettings({ arch: 'cnn' }, { dataset: 'mnist' });
    expect(generic).toMatchObject({ epochs: 5, batchSize: 128, weightDecay: 5e-4 });
    expect(isParsed(TrainSettingsSchema, generic)).toBe(true);
  });

  it('resolve fills defaults and moves weightDecay into the optimizer; checkpoints stay within the run', () => {
    const r = resolveTrainSettings({ epochs: 2, batchSize: 8, optimizer: { kind: 'sgd', lr: 0.1 }, weightDecay: 0.01 });
    expect(r).toEqual({ epochs: 2, batchSize: 8, optimizer: { kind: 'sgd', lr: 0.1, weightDecay: 0.01 }, schedule: null, seed: 0, freeze: [], checkpoints: [], init: 'pytorch', dropLast: false, evalBatchSize: 1000 });
    expect(msg(() => parseTrainSettings({ epochs: 1, batchSize: 8, optimizer: { kind: 'sgd', lr: 0.1 }, checkpoints: [0.5, 2] }))).toBe('CONFIG_INVALID: recipe.checkpoints[1] must be <= 1, got 2');
    expect(msg(() => parseTrainSettings({ epochs: 1, batchSize: 8, optimizer: { kind: 'adam', learningRate: 0.1 } }, 'train'))).toMatch(/^CONFIG_INVALID: train\.optimizer\.learningRate is not a known option/);
    expect(msg(() => parseTrainSettings({ epochs: 1, batchSize: 8, optimizer: { kind: 'sgd', lr: 0.1 }, schedule: { kind: 'cosine', totalSteps: 5, warmup: { steps: 5 } } }, 'train'))).toBe('CONFIG_INVALID: train.schedule.totalSteps must exceed warmup.steps (5), got 5');
  });

  it('steps per epoch: ceil, or floor with dropLast', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 5000 }), fc.integer({ min: 1, max: 300 }), fc.boolean(), (n, b, drop) => {
        const s = stepsPerEpoch(n, { batchSize: b, dropLast: drop });
        expect(s).toBe(drop ? Math.floor(n / b) : Math.ceil(n / b));
      }),
    );
  });

  it('withSeed keeps a parsed value trusted and checks only the seed; withoutLongWarmup drops a warm-up that does not fit', () => {
    const base = TRAINING_PRESETS.miniMyrtleFashion.train;
    const s = withSeed(base, 7);
    expect(s).toEqual({ ...base, seed: 7 });
    expect(isParsed(TrainSettingsSchema, s)).toBe(true);
    expect(msg(() => withSeed(base, -1))).toBe('CONFIG_INVALID: seed must be a non-negative integer or a string, got -1');
    expect(msg(() => withSeed({ epochs: 0, batchSize: 1, optimizer: { kind: 'sgd', lr: 1 } }, 1))).toMatch(/^CONFIG_INVALID: recipe\.epochs must be an integer >= 1/);
    expect(withoutLongWarmup(base, 1000)).toBe(base);
    const short = withoutLongWarmup(base, 100);
    expect(short.schedule).toEqual({ kind: 'cosine' });
    expect(isParsed(TrainSettingsSchema, short)).toBe(true);
  });
});

describe('train config file', () => {
  it('parses every part once; the file as basis train writes it is accepted', () => {
    const f = parseTrainConfigFile({ model: { arch: 'mlp', width: [8, 4] }, data: { dataset: 'gaussian', dim: 5 }, train: TRAINING_PRESETS.mlpMnist.train, seeds: [0, 'x-1'], spawnSteps: 3, description: 'd', target: { testAccuracy: 0.9 } });
    expect(isParsed(ModelSpecSchema, f.model) || Object.isFrozen(f.model)).toBe(true);
    expect(f.seeds).toEqual([0, 'x-1']);
    expect(parseModelSpec(f.model)).toEqual({ arch: 'mlp', width: [8, 4] });
    expect(msg(() => parseTrainConfigFile([]))).toBe('CONFIG_INVALID: config must be a JSON object { model, data, train, seeds }, got an array of length 0');
    expect(msg(() => parseTrainConfigFile({ seeds: [] }))).toBe('CONFIG_INVALID: config.seeds must be a non-empty list of seeds');
    expect(msg(() => parseTrainConfigFile({ seeds: [1, '1'] }))).toBe('CONFIG_INVALID: config.seeds lists a seed twice');
  });
});

describe('parseDataArg', () => {
  it('one grammar: datasets with key=value options, idx files, a count, array files', () => {
    expect(parseDataArg('mnist')).toEqual({ kind: 'spec', spec: { dataset: 'mnist' } });
    expect(parseDataArg('gaussian:n=300,classes=4,seed=2')).toEqual({ kind: 'spec', spec: { dataset: 'gaussian', n: 300, classes: 4, seed: 2 } });
    expect(parseDataArg('idx:d')).toEqual({ kind: 'spec', spec: { dataset: 'idx', dir: 'd' } });
    expect(parseDataArg('idx:a,b,c,d,source=idx')).toEqual({ kind: 'spec', spec: { dataset: 'idx', train: { images: 'a', labels: 'b' }, test: { images: 'c', labels: 'd' }, source: 'idx' } });
    expect(parseDataArg('fashion:500,trainSize=1000', { count: true })).toEqual({ kind: 'spec', spec: { dataset: 'fashion', trainSize: 1000 }, count: 500 });
    expect(parseDataArg('acts.npz:layer1', { files: true })).toEqual({ kind: 'file', path: 'acts.npz:layer1' });
    expect(isParsed(DataSpecSchema, (parseDataArg('mnist') as { spec: unknown }).spec)).toBe(true);
    expect(parseDataSpec((parseDataArg('modadd:p=7') as { spec: unknown }).spec)).toEqual({ dataset: 'modadd', p: 7 });
  });

  it('problems are USAGE errors naming the flag', () => {
    expect(msg(() => parseDataArg('cifar'))).toMatch(/^USAGE: --data must start with one of mnist, fashion, idx, modadd, gaussian, got 'cifar'/);
    expect(msg(() => parseDataArg('mnist:200'))).toMatch(/^USAGE: --data mnist: options are key=value pairs, got '200'/);
    expect(msg(() => parseDataArg('mnist:2,3', { count: true }))).toMatch(/^USAGE: --data mnist: gives the number of examples twice/);
    expect(msg(() => parseDataArg('idx:a,b,c'))).toMatch(/^USAGE: --data idx: needs a folder, or 2 files/);
    expect(msg(() => parseDataArg('modadd:p=1', { flag: '--inputs' }))).toMatch(/^USAGE: --inputs\.p must be an integer in \[2, 4096\], got 1/);
    expect(msg(() => parseDataArg(''))).toMatch(/^USAGE: --data needs a value/);
  });
});
