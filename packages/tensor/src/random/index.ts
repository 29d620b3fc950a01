// Public API of the random area: seeded, platform-independent randomness.
export { Rng, createRng, type RngState } from './rng.js';
export { portableLog } from './portable-log.js';
export {
  lognormalDiagonal,
  permutation,
  rand,
  randn,
  randomSigns,
  sampleWithoutReplacement,
  shuffle,
} from './samplers.js';
