// The registry of experiment recipes (seeds-spec section 2): one entry per experiment id. To add a
// recipe, import it and add it to RECIPE_LIST (keep the list in id order).
import { BasisError } from '@basis/tensor';
import { e000_1 } from './e000-1.js';
import { e000_2 } from './e000-2.js';
import { e000_3 } from './e000-3.js';
import { e000_4 } from './e000-4.js';
import { e002_1 } from './e002-1.js';
import { e002_2 } from './e002-2.js';
import { e002_3 } from './e002-3.js';
import { e002_4 } from './e002-4.js';
import { e002_5 } from './e002-5.js';
import { e003_1 } from './e003-1.js';
import { e003_2 } from './e003-2.js';
import { e003_3 } from './e003-3.js';
import { e003_4 } from './e003-4.js';
import { e003_5 } from './e003-5.js';
import { e003_6 } from './e003-6.js';
import { e003_7 } from './e003-7.js';
import { e004_1 } from './e004-1.js';
import { e004_2 } from './e004-2.js';
import { e004_3 } from './e004-3.js';
import { v001_1 } from './v001-1.js';
import { v001_2 } from './v001-2.js';
import { v001_3 } from './v001-3.js';
import { v001_4 } from './v001-4.js';
import type { ExperimentRecipe } from './types.js';

/**
 * A recipe of any configuration type (the registry holds recipes with different configs): its
 * configuration is `unknown` until its own `checkConfig` has parsed it (`run` takes what
 * `checkConfig` returned).
 *
 * @example
 * ```ts
 * const r: AnyRecipe = getRecipe('E000-1');
 * ```
 */
export type AnyRecipe = ExperimentRecipe<unknown>;

/**
 * Every recipe, in id order.
 *
 * @example
 * ```ts
 * RECIPE_LIST.map((r) => r.id); // ['E000-1', 'E000-2', ...]
 * ```
 */
export const RECIPE_LIST: readonly AnyRecipe[] = [
  e000_1,
  e000_2,
  e000_3,
  e000_4,
  e002_1,
  e002_2,
  e002_3,
  e002_4,
  e002_5,
  e003_1,
  e003_2,
  e003_3,
  e003_4,
  e003_5,
  e003_6,
  e003_7,
  e004_1,
  e004_2,
  e004_3,
  v001_1,
  v001_2,
  v001_3,
  v001_4,
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
