// Node-only API of the model area.
export {
  loadDataSpec,
  runRecipe,
  trainModelResumable,
  type RunRecipeOptions,
  type TrainModelResumableOptions,
  type TrainModelResumableResult,
} from './node.js';
