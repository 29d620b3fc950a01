// The registry of experiment recipes (seeds-spec section 2): one entry per experiment id. To add a
// recipe, import it and add it to RECIPE_LIST (keep the list in id order).
import { BasisError } from '@basis/tensor';
import type { ExperimentRecipe } from './types.js';

/** A recipe of any configuration type (the registry holds recipes with different configs). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyRecipe = ExperimentRecipe<any>;

/**
 * Every recipe, in id order.
 *
 * @example
 * ```ts
 * RECIPE_LIST.map((r) => r.id); // ['E000-1', 'E000-2', ...]
 * ```
 */
export const RECIPE_LIST: readonly AnyRecipe[] = [
];

/**
 * Recipes by experiment id (`E000-1` … `V001-4`).
 *
 * @example
 * ```ts
 * RECIPE_REGISTRY['E002-1']?.title;
 * ```
 */
export const RECIPE_REGISTRY: Readonly<Record<string, AnyRecipe>> = Object.freeze(Object.fromEntries(RECIPE_LIST.map((r) => [r.id, r])));

/**
 * The recipe with this id; BasisError CONFIG_INVALID listing the valid ids otherwise.
 *
 * @example
 * ```ts
 * const r = getRecipe('E000-1');
 * r.profiles.quick;
 * ```
 */
export function getRecipe(id: string): AnyRecipe {
  const r = typeof id === 'string' ? RECIPE_REGISTRY[id] : undefined;
  if (r === undefined) {
    throw new BasisError('CONFIG_INVALID', `unknown experiment id ${typeof id === 'string' ? `'${id}'` : String(id)}; valid ids: ${Object.keys(RECIPE_REGISTRY).join(', ') || '(none registered)'}`, {
      details: { field: 'id', valid: Object.keys(RECIPE_REGISTRY) },
    });
  }
  return r;
}
