// Front-door checks of experiment configurations. A recipe declares its configuration as a valibot
// schema (`configSchema`, built with @basis/tensor's schema builders, zoo's DataSpecSchema,
// ModelSpecSchema and TrainSettingsSchema, and the shared pieces of recipes/common.ts and
// recipes/e003-shared.ts); `recipeConfig` makes its `checkConfig` one `parseConfig` with that schema,
// so the runner parses a configuration once into a frozen, typed value, and the docs publish the
// schema as JSON Schema (apps/docs/scripts/config-schemas.ts). Every failure is a CONFIG_INVALID
// BasisError whose message starts with the field path (`config.family.seeds needs at least 2 seeds
// (one pair), got 1`). The shared hand checkers of @basis/tensor are re-exported here for checks
// that are not configurations (evaluation-task payloads).
import * as v from 'valibot';
import { at, list, parseConfig, show, type Schema } from '@basis/tensor';

export { checkBool, checkInt, checkKeys, checkList, checkNum, checkObject, checkOneOf, invalid, show, type NumBounds } from '@basis/tensor';

/**
 * The configuration members of a recipe declared by a schema: `configSchema` (published as JSON
 * Schema with the docs) and `checkConfig`, which parses with it once (`parseConfig`: a frozen typed
 * value; a value it returned before is returned as it is). `field` starts every error message
 * (`config`, or the recipe id where its messages always started with it).
 *
 * @example
 * ```ts
 * const recipe: ExperimentRecipe<MyConfig> = { id: 'X-1', ...recipeConfig(MyConfigSchema), profiles, run };
 * ```
 */
export function recipeConfig<C>(schema: Schema<C>, field = 'config'): { configSchema: Schema<C>; checkConfig: (value: unknown) => C } {
  return { configSchema: schema, checkConfig: (value) => parseConfig(schema, value, field) };
}

type Issue = v.BaseIssue<unknown>;
const pipe = v.pipe as unknown as (...items: unknown[]) => never;

/**
 * A whole number of things, at least `min`: "must be a finite number, got NaN", "must be an
 * integer, got 12.5", "needs at least 10 inputs, got 5".
 *
 * @example
 * ```ts
 * object({ inputs: count(10, 'inputs') });
 * ```
 */
export function count(min: number, what: string): Schema<number> {
  const notNumber = (i: Issue): string => `must be a finite number, got ${show(i.input)}`;
  return pipe(
    v.number(notNumber),
    v.finite(notNumber),
    v.integer((i: Issue) => `must be an integer, got ${show(i.input)}`),
    v.minValue(min, (i: Issue) => `needs at least ${min} ${what}, got ${String(i.input)}`),
  ) as Schema<number>;
}

/**
 * A finite number strictly between `lo` and `hi`: "must be in (0, 0.5), got 0.7" (with `note`
 * after the interval).
 *
 * @example
 * ```ts
 * object({ tol: between(0, 0.5) });
 * ```
 */
export function between(lo: number, hi: number, note = ''): Schema<number> {
  const notNumber = (i: Issue): string => `must be a finite number, got ${show(i.input)}`;
  const out = (i: Issue): string => `must be in (${lo}, ${hi})${note === '' ? '' : ` ${note}`}, got ${String(i.input)}`;
  return pipe(v.number(notNumber), v.finite(notNumber), v.gtValue(lo, out), v.ltValue(hi, out)) as Schema<number>;
}

/**
 * A list of at least `min` items following `item`: "must be a list of seeds, got 3", "needs at
 * least 2 seeds (a CI needs two runs), got 1".
 *
 * @example
 * ```ts
 * object({ seeds: listOfAtLeast(integer(0), 'seeds', 2, 'seeds (a CI needs two runs)') });
 * ```
 */
export function listOfAtLeast<T>(item: Schema<T>, what: string, min: number, need: string): Schema<T[]> {
  return pipe(list(item, what), v.minLength(min, (i: Issue) => `needs at least ${min} ${need}, got ${(i.input as unknown[]).length}`)) as Schema<T[]>;
}

/** A problem that a cross-field check found: the keys (list indices as numbers) from the configuration down to the field, and what is wrong. */
export interface FieldProblem {
  at: readonly [string, ...Array<string | number>];
  message: string;
}

/**
 * `schema` followed by a check across fields (run once every field is valid): `problem` returns
 * the first problem of the typed value or null. The message is reported at the field's path
 * (`config.family.seeds needs at least 2 seeds (one pair), got 1`); JSON Schema leaves it out.
 *
 * @example
 * ```ts
 * crossCheck(object({ depth: integer(2), layer: integer(0) }), (c) => (c.layer <= c.depth - 2 ? null : { at: ['layer'], message: 'must be below depth - 1' }));
 * ```
 */
export function crossCheck<T>(schema: Schema<T>, problem: (value: T) => FieldProblem | null): Schema<T> {
  return pipe(
    schema,
    v.rawCheck(({ dataset, addIssue }) => {
      if (!dataset.typed) return;
      const p = problem(dataset.value as T);
      if (p === null) return;
      const path: Array<v.ObjectPathItem | v.ArrayPathItem> = [];
      let o = dataset.value as Record<string, unknown>;
      for (const k of p.at) {
        if (typeof k === 'number') {
          path.push(item(o as unknown as unknown[], k));
        } else path.push(at(o, k));
        o = o[k] as Record<string, unknown>;
      }
      addIssue({ message: p.message, path: path as [v.ObjectPathItem, ...v.ObjectPathItem[]] });
    }),
  ) as Schema<T>;
}

/** The issue-path entry of item `i` of the list `xs` (valibot's array path item). */
function item(xs: unknown[], i: number): v.ArrayPathItem {
  return { type: 'array', origin: 'value', input: xs, key: i, value: xs[i] };
}

/**
 * `schema` (a list of numbers) whose items each exceed the one before them: "[2] must be larger
 * than the width before it (32), got 16" (reported at the item).
 *
 * @example
 * ```ts
 * object({ widths: ascending(list(integer(2), 'widths'), 'width') });
 * ```
 */
export function ascending(schema: Schema<number[]>, what: string): Schema<number[]> {
  return pipe(
    schema,
    v.rawCheck(({ dataset, addIssue }) => {
      if (!dataset.typed) return;
      const xs = dataset.value as number[];
      for (let i = 1; i < xs.length; i++) {
        if ((xs[i] as number) > (xs[i - 1] as number)) continue;
        addIssue({ message: `must be larger than the ${what} before it (${xs[i - 1]}), got ${xs[i]}`, path: [item(xs, i)] });
        return;
      }
    }),
  ) as Schema<number[]>;
}

/**
 * `schema` (a list) without repeated items: "lists a class twice" (with `what` = 'class').
 *
 * @example
 * ```ts
 * object({ trunks: distinct(list(oneOf(['trained', 'random-init']), 'trunk variants'), 'variant') });
 * ```
 */
export function distinct<T>(schema: Schema<T[]>, what: string): Schema<T[]> {
  return pipe(schema, v.check((xs: T[]) => new Set(xs).size === xs.length, `lists a ${what} twice`)) as Schema<T[]>;
}
