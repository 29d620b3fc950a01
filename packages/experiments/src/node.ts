// @basis/experiments/node: the parts that read and write files (demo, recipes, the run cache).
export { demoReport, runDemo, type DemoOptions, type DemoResult } from './demo.js';
export { checkModelJob, createRunContext, packageVersions, type ModelJob, type NodeRunContext, type RunContextOptions, type RunStats } from './runner/context.js';
export { loadData } from './runner/data.js';
export { contentHash, parseStored, stringifyStored } from './runner/json.js';
export { RECIPE_LIST, RECIPE_REGISTRY, getRecipe, type AnyRecipe } from './recipes/index.js';
export type { CachedModel, ClaimCheck, Estimate, ExperimentRecipe, Profile, RecipeResult, RunContext, Verdict } from './recipes/types.js';
export { recipeReport, runRecipe, type RecipeRun, type RunRecipeOptions } from './runner/run.js';
export { mergeConfig, parseExperimentText, readExperimentFile, type ExperimentFile } from './runner/config.js';
export { recipeHash, recipeSources, type RecipeHash } from './runner/hash.js';
export { judge, judgeAll, judgeFlag, pairBootstrap, QUICK_CAVEAT, type Judgement, type Rule } from './recipes/verdict.js';
export { PROFILES } from './recipes/types.js';
export { indexReport, indexRows, writeIndex, type IndexRow, type IndexedRun } from './runner/summary.js';
