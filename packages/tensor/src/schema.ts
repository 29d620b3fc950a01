// Schemas of basis' inputs (model specs, data specs, training settings, config files) are written
// with valibot and parsed once, at the door, by `parseConfig`: the first problem becomes a
// CONFIG_INVALID BasisError whose message starts with the path of the bad field and says what was
// expected (`config.train.optimizer.lr must be > 0, got 0`). The builders below give every schema
// the same wording as @basis/tensor's hand-written checkers, and they are plain valibot schemas, so
// `@valibot/to-json-schema` turns them into the published JSON Schemas.
import * as v from 'valibot';
import { BasisError } from './errors.js';
import { show } from './validation.js';

/** A valibot schema that takes unknown input and returns a `T`. */
export type Schema<T> = v.GenericSchema<unknown, T>;

type Issue = v.BaseIssue<unknown>;

/** What a missing required field should have been, per schema (for "is required: ..." messages). */
const EXPECTED = new WeakMap<object, string>();

function expecting<S extends object>(schema: S, what: string): S {
  EXPECTED.set(schema, what);
  return schema;
}

const pipe = v.pipe as unknown as (...items: unknown[]) => never;

/**
 * An integer in `[min, max]` (`max` open when omitted): "must be an integer >= 1, got 0" (or
 * `must be {description}, got 0`).
 *
 * @example
 * ```ts
 * parseConfig(integer(1), 3, 'epochs'); // 3
 * ```
 */
export function integer(min: number, max?: number, description?: string): Schema<number> {
  const what = description ?? `an integer ${max === undefined ? `>= ${min}` : `in [${min}, ${max}]`}`;
  const m = (i: Issue): string => `must be ${what}, got ${show(i.input)}`;
  const s: Schema<number> = max === undefined ? pipe(v.number(m), v.safeInteger(m), v.minValue(min, m)) : pipe(v.number(m), v.safeInteger(m), v.minValue(min, m), v.maxValue(max, m));
  return expecting(s, what);
}

/** Bounds of {@link finite}: strict `gt`/`lt`, inclusive `ge`/`le`. */
export interface Bounds {
  gt?: number;
  ge?: number;
  lt?: number;
  le?: number;
}

/**
 * A finite number within bounds: "must be a finite number, got 'x'", "must be > 0, got -1".
 *
 * @example
 * ```ts
 * parseConfig(finite({ gt: 0, lt: 1 }), 0.2, 'testFraction'); // 0.2
 * ```
 */
export function finite(b: Bounds = {}): Schema<number> {
  const notNumber = (i: Issue): string => `must be a finite number, got ${show(i.input)}`;
  const bound = (op: string, x: number) => (i: Issue): string => `must be ${op} ${x}, got ${String(i.input)}`;
  const actions: unknown[] = [v.number(notNumber), v.finite(notNumber)];
  if (b.gt !== undefined) actions.push(v.gtValue(b.gt, bound('>', b.gt)));
  if (b.ge !== undefined) actions.push(v.minValue(b.ge, bound('>=', b.ge)));
  if (b.lt !== undefined) actions.push(v.ltValue(b.lt, bound('<', b.lt)));
  if (b.le !== undefined) actions.push(v.maxValue(b.le, bound('<=', b.le)));
  const parts = [b.gt === undefined ? null : `> ${b.gt}`, b.ge === undefined ? null : `>= ${b.ge}`, b.lt === undefined ? null : `< ${b.lt}`, b.le === undefined ? null : `<= ${b.le}`].filter((x) => x !== null);
  return expecting(pipe(...actions) as Schema<number>, `a finite number${parts.length === 0 ? '' : ` ${parts.join(' and ')}`}`);
}

/**
 * True or false: "must be true or false, got 1".
 *
 * @example
 * ```ts
 * parseConfig(boolean(), true, 'dropLast'); // true
 * ```
 */
export function boolean(): Schema<boolean> {
  return expecting(v.boolean((i) => `must be true or false, got ${show(i.input)}`), 'true or false');
}

/**
 * One of the given strings: "must be one of mlp, resnet, got 'vgg'" (or `'a' or 'b'` style with `quoted`).
 *
 * @example
 * ```ts
 * parseConfig(oneOf(['tokens', 'onehot'], { quoted: true }), 'tokens', 'encoding');
 * ```
 */
export function oneOf<const T extends readonly string[]>(values: T, opts: { quoted?: boolean } = {}): Schema<T[number]> {
  const list = opts.quoted === true ? quotedList(values) : `one of ${values.join(', ')}`;
  return expecting(v.picklist(values as unknown as T[number][], (i) => `must be ${list}, got ${show(i.input)}`) as unknown as Schema<T[number]>, list);
}

/** `'a', 'b' or 'c'`. */
export function quotedList(values: readonly string[]): string {
  const q = values.map((x) => `'${x}'`);
  return q.length === 1 ? (q[0] as string) : `${q.slice(0, -1).join(', ')} or ${q.at(-1) as string}`;
}

/**
 * A non-empty string described by `what` ("must be a file path, got ''").
 *
 * @example
 * ```ts
 * parseConfig(text('a file path'), 'x.gz', 'images');
 * ```
 */
export function text(what = 'a non-empty string'): Schema<string> {
  const m = (i: Issue): string => `must be ${what}, got ${show(i.input)}`;
  return expecting(pipe(v.string(m), v.minLength(1, m)) as Schema<string>, what);
}

/**
 * A seed accepted by `createRng`: a non-negative safe integer or a string.
 *
 * @example
 * ```ts
 * parseConfig(seed(), 'run-a', 'seed'); // 'run-a'
 * ```
 */
export function seed(): Schema<number | string> {
  const m = (i: Issue): string => `must be a non-negative integer or a string, got ${show(i.input)}`;
  return expecting(v.union([v.string(m), pipe(v.number(m), v.safeInteger(m), v.minValue(0, m)) as Schema<number>], m), 'a non-negative integer or a string');
}

/**
 * A list whose items follow `item`: "must be a list of ..., got 3" for a non-list.
 *
 * @example
 * ```ts
 * parseConfig(list(finite({ ge: 0 }), 'epoch fractions'), [0.5], 'checkpoints');
 * ```
 */
export function list<T>(item: Schema<T>, what: string, opts: { min?: number; emptyMessage?: string } = {}): Schema<T[]> {
  const m = (i: Issue): string => `must be a list of ${what}, got ${show(i.input)}`;
  const min = opts.min ?? 0;
  if (min === 0) return expecting(v.array(item, m), `a list of ${what}`);
  const e = (): string => opts.emptyMessage ?? `must list at least ${min} ${what}`;
  return expecting(pipe(v.array(item, m), v.minLength(min, e)) as Schema<T[]>, `a list of ${what}`);
}

/**
 * A plain object with exactly these keys (required ones unwrapped, optional ones in `v.optional`):
 * "must be an object, got 3", "is not a known option; allowed: a, b", "is required: an integer >= 1".
 * `unknownKey` rewords the unknown-key message.
 *
 * @example
 * ```ts
 * const s = object({ images: text('a file path'), labels: text('a file path') });
 * ```
 */
export function object<E extends v.ObjectEntries>(entries: E, opts: { unknownKey?: (key: string, allowed: string[]) => string; what?: string } = {}) {
  const allowed = Object.keys(entries);
  const message = (i: Issue): string => {
    if (i.expected === 'never') return opts.unknownKey?.(String(i.input), allowed) ?? `is not a known option; allowed: ${allowed.join(', ')}`;
    const key = i.path?.at(-1)?.key;
    if (i.input === undefined && typeof key === 'string' && i.path !== undefined && i.path.length > 0 && i.expected === `"${key}"`) {
      const e = entries[key];
      const what = e === undefined ? undefined : EXPECTED.get(e);
      return `is required${what === undefined ? '' : `: ${what}`}`;
    }
    return `must be ${opts.what ?? 'an object'}, got ${show(i.input)}`;
  };
  return notArray(v.strictObject(entries, message), message);
}

/**
 * `schema` (an object or record schema) that also rejects arrays, which valibot reads as objects:
 * the issue is the schema's own "must be an object" one. The schema keeps its kind, so JSON Schema
 * conversion is unchanged.
 *
 * @example
 * ```ts
 * const anyObject = notArray(v.record(v.string(), v.unknown()), () => 'must be an object');
 * ```
 */
export function notArray<S extends v.GenericSchema>(schema: S, message: (i: Issue) => string): S {
  const run = schema['~run'].bind(schema);
  return {
    ...schema,
    '~run'(dataset: v.UnknownDataset, config: v.Config<v.BaseIssue<unknown>>) {
      if (!Array.isArray(dataset.value)) return run(dataset, config);
      const input: unknown = dataset.value;
      const base = { kind: 'schema', type: schema.type, input, expected: 'Object', received: 'Array', message: '', requirement: undefined, path: undefined, issues: undefined, lang: config.lang, abortEarly: config.abortEarly, abortPipeEarly: config.abortPipeEarly } as v.BaseIssue<unknown>;
      const issue = { ...base, message: message(base) };
      return { typed: false, value: input, issues: [issue] } as unknown as ReturnType<S['~run']>;
    },
  } as S;
}

/**
 * An optional field (absent or `undefined`).
 *
 * @example
 * ```ts
 * object({ depth: optional(integer(1)) });
 * ```
 */
export function optional<T>(s: Schema<T>): v.OptionalSchema<Schema<T>, undefined> {
  return v.optional(s);
}

/**
 * The path item of field `key` of object `input`, for cross-field checks (`v.rawCheck`) that
 * report on one field.
 *
 * @example
 * ```ts
 * addIssue({ message: 'cannot be combined with dir', path: [at(o, 'test')] });
 * ```
 */
export function at(input: Record<string, unknown>, key: string): v.ObjectPathItem {
  return { type: 'object', origin: 'value', input, key, value: input[key] };
}

/** `field` followed by the issue's path: `config.model` + `.width[1]`. */
export function issueField(field: string, issue: Issue): string {
  let out = field;
  for (const p of issue.path ?? []) {
    const k = p.key;
    out += typeof k === 'number' ? `[${k}]` : `.${String(k)}`;
  }
  return out;
}

/** Drops `undefined` members (left by optional fields given as undefined), recursively. */
function clean<T>(x: T): T {
  if (Array.isArray(x)) return x.map(clean) as T;
  if (typeof x === 'object' && x !== null && Object.getPrototypeOf(x) === Object.prototype) {
    const out: Record<string, unknown> = {};
    for (const [k, val] of Object.entries(x)) if (val !== undefined) out[k] = clean(val);
    return out as T;
  }
  return x;
}

/** Values `parseConfig` returned (deep-frozen), by the schema that parsed them. */
const PARSED = new WeakMap<object, Schema<unknown>>();

function deepFreeze<T>(x: T): T {
  if (typeof x === 'object' && x !== null && !Object.isFrozen(x)) {
    for (const val of Object.values(x)) deepFreeze(val);
    Object.freeze(x);
  }
  return x;
}

/** Whether an issue is an unknown key of a strict object. */
const unknownKey = (i: Issue): boolean => i.type === 'strict_object' && i.expected === 'never';

/**
 * The issue to report: the first one in schema order, except that an unknown key of the same
 * object or an enclosing one comes first (as the hand-written checkers did: a misspelt
 * `learningRate` is reported as unknown, not as a missing `lr`).
 */
function firstIssue(issues: readonly [Issue, ...Issue[]]): Issue {
  const first = issues[0];
  const depth = first.path?.length ?? 0;
  return issues.find((i) => unknownKey(i) && (i.path?.length ?? 0) <= depth) ?? first;
}

/**
 * Parses `value` with a schema of this module: the typed value (a fresh, deep-frozen copy holding
 * only the known fields), or CONFIG_INVALID for the first problem, its message starting with
 * `field` and the path of the bad member (`details.field` holds that path). A value this function
 * returned for the same schema is trusted and returned as it is, so entry points that face users
 * directly (and parse their input) cost nothing when they are handed an already parsed value.
 *
 * @example
 * ```ts
 * import { parseConfig } from '@basis/tensor';
 * import { ModelSpecSchema } from '@basis/zoo';
 * const spec = parseConfig(ModelSpecSchema, JSON.parse(text).model, 'config.model');
 * parseConfig(ModelSpecSchema, spec, 'model') === spec; // true: parsed once
 * ```
 */
export function parseConfig<T>(schema: Schema<T>, value: unknown, field: string): T {
  if (typeof value === 'object' && value !== null && PARSED.get(value) === schema) return value as T;
  // every issue is collected (abortEarly would hide the inner issue of a union behind the union's
  // own message); the first is the earliest field in schema order
  const r = v.safeParse(schema, value);
  if (!r.success) {
    const issue = firstIssue(r.issues);
    const where = issueField(field, issue);
    throw new BasisError('CONFIG_INVALID', `${where} ${issue.message}`, { details: { field: where } });
  }
  const out = deepFreeze(clean(r.output));
  if (typeof out === 'object' && out !== null) PARSED.set(out, schema as Schema<unknown>);
  return out;
}

/**
 * Whether `value` is a value {@link parseConfig} returned for `schema` (so it needs no check).
 *
 * @example
 * ```ts
 * isParsed(ModelSpecSchema, parseModelSpec({ arch: 'mlp' })); // true
 * ```
 */
export function isParsed(schema: Schema<unknown>, value: unknown): boolean {
  return typeof value === 'object' && value !== null && PARSED.get(value) === schema;
}

/**
 * Registers a value as parsed by `schema` without checking it (and deep-freezes it): only for
 * values derived from parsed ones in a way that keeps them valid (a parsed value copied to a
 * worker thread, a parsed value with a checked field replaced).
 *
 * @example
 * ```ts
 * const settings = markParsed(TrainSettingsSchema, job.recipe); // a structured clone of a parsed value
 * ```
 */
export function markParsed<T>(schema: Schema<unknown>, value: T): T {
  const out = deepFreeze(value);
  if (typeof out === 'object' && out !== null) PARSED.set(out, schema);
  return out;
}
