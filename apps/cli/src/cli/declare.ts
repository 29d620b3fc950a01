// Commands as data: each `basis` command is declared once (name, positional arguments, summary,
// options with their value schemas, defaults and help, examples, what it runs). The argv parser
// (argv.ts), `--help` (help.ts) and the docs' CLI reference are all generated from these
// declarations, and the flags are parsed once, by one valibot object schema per command, into the
// typed options object the command's `run` receives.
import * as v from 'valibot';
import { BasisError } from '@basis/tensor';
import type { CommandContext } from '../context.js';

/** What the argv parser hands to an option's schema: the value given, `true` for a bare switch, every value of a repeatable option. */
export type RawValue = string | true | readonly string[];

/** How an option takes its value on the command line. */
export type OptionKind = 'switch' | 'value' | 'optional-value' | 'repeatable';

/** One option of a command (or a global option), declared once. */
export interface OptionDecl<T = unknown> {
  /** switch (`--quick`), value (`--epochs <n>`), optional-value (`--queue [url]`) or repeatable (`--key-map <rule>`, several times). */
  readonly kind: OptionKind;
  /** The placeholder shown in help (`n` in `--epochs <n>`); none for switches. */
  readonly placeholder?: string;
  /** One line of help. */
  readonly help: string;
  /** The default, as if given on the command line (shown in help; parsed by the same schema). */
  readonly default?: string | number;
  /** Parses the raw value (undefined when the option is absent) into the typed value (async: a parser loaded when the command runs, see {@link deferred}). */
  readonly schema: v.GenericSchema<RawValue | undefined, T> | v.GenericSchemaAsync<RawValue | undefined, T>;
}

/** A command's options, by camelCase key (`maxMemory` is `--max-memory`). */
export type OptionDecls = Readonly<Record<string, OptionDecl>>;

/** The typed options object of a command: each key's schema output. */
export type ParsedOptions<O extends OptionDecls> = { -readonly [K in keyof O]: O[K] extends OptionDecl<infer T> ? T : never };

/** One positional argument: `<a>` (required) or `[model]` (optional). */
export interface ArgDecl {
  readonly name: string;
  readonly required: boolean;
}

/** One `basis` command, declared once. */
export interface CommandDecl<O extends OptionDecls = OptionDecls> {
  readonly name: string;
  readonly args: readonly ArgDecl[];
  /** One paragraph: the first line of `basis --help` and of the reference. */
  readonly summary: string;
  readonly options: O;
  readonly examples: readonly string[];
  /** Print the engine's fall-back notice (default true; info, export and queue do not). */
  readonly engineNotice?: boolean;
  /**
   * Checks that need the arguments and several options together, before any work (cheap: no file
   * is read). Throws a USAGE BasisError.
   */
  readonly check?: (args: Readonly<Record<string, string | undefined>>, opts: ParsedOptions<O>) => void;
  /** Runs the command; resolves to its exit code (0 when nothing is returned). */
  readonly run: (ctx: CommandContext, args: Readonly<Record<string, string | undefined>>, opts: ParsedOptions<O>) => Promise<number | void>;
}

/** A command of any option set (for tables of commands). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyCommand = CommandDecl<any>;

/**
 * Declares a command (identity at run time; infers the typed options object from `options`).
 *
 * @example
 * ```ts
 * const hello = command({
 *   name: 'hello', args: [], summary: 'Say hello', examples: ['basis hello --times 2'],
 *   options: { times: value('n', 'how many times', int(1), { default: 1 }) },
 *   run: async (ctx, _args, o) => ctx.info('hello'.repeat(o.times)), // o.times: number
 * });
 * ```
 */
export function command<const O extends OptionDecls>(decl: CommandDecl<O>): CommandDecl<O> {
  return decl;
}

/** `<a>` / `[b]` into argument declarations. */
export function args(...usage: string[]): ArgDecl[] {
  return usage.map((u) => {
    const m = /^(<|\[)([a-z][\w-]*)(>|\])$/.exec(u);
    if (m === null || (m[1] === '<') !== (m[3] === '>')) throw new BasisError('INVALID_ARGUMENT', `argument '${u}' must be <name> or [name]`);
    return { name: m[2] as string, required: m[1] === '<' };
  });
}

/** `maxMemory` → `--max-memory`. */
export function flagName(key: string): string {
  return `--${key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
}

/** Thrown by a value parser; `{flag}` in the message becomes the option's name, else the name is put first. */
export class FlagValueError extends Error {}

/** A value schema of a flag: sync, or async when its parser is loaded as the command runs ({@link deferred}). */
export type FlagSchema<T> = v.GenericSchema<string, T> | v.GenericSchemaAsync<string, T>;

type TransformContext = { dataset: { value: string }; addIssue: (info: { message: string }) => void; NEVER: never };

/** `fn(value)`, its FlagValueError or USAGE BasisError becoming the issue (other errors pass through). */
function attempt<T>(fn: (s: string) => T, { dataset, addIssue, NEVER }: TransformContext): T {
  try {
    return fn(dataset.value);
  } catch (e) {
    if (e instanceof FlagValueError || (e instanceof BasisError && e.code === 'USAGE')) {
      addIssue({ message: e.message });
      return NEVER;
    }
    throw e;
  }
}

/** A schema that parses the option's string with `fn` (which throws FlagValueError or a USAGE BasisError). */
function parsing<T>(fn: (s: string) => T): v.GenericSchema<string, T> {
  return v.pipe(
    v.string(),
    v.rawTransform<string, T>((ctx) => attempt(fn, ctx)),
  ) as v.GenericSchema<string, T>;
}

/**
 * A value parsed by a parser that is loaded when the command runs, so that the package it needs
 * (e.g. @basis/zoo's registries) stays out of start-up and `--help`. `load` resolves to the
 * parser, which throws FlagValueError or a USAGE BasisError (`{flag}` in the message is the
 * option's name).
 *
 * @example
 * ```ts
 * const arch = value('name', 'architecture', deferred(async () => (await import('./arch.js')).parseArch));
 * ```
 */
export function deferred<T>(load: () => Promise<(s: string) => T>): v.GenericSchemaAsync<string, T> {
  return v.pipeAsync(
    v.string(),
    v.rawTransformAsync<string, T>(async (ctx) => attempt(await load(), ctx)),
  ) as v.GenericSchemaAsync<string, T>;
}

const fail = (message: string): never => {
  throw new FlagValueError(message);
};

/** An integer >= min (and <= max): `{flag} must be an integer >= 1, got '-1'`. */
export function int(min: number, max?: number): v.GenericSchema<string, number> {
  return parsing((s) => {
    const n = Number(s);
    const ok = s.trim() !== '' && Number.isSafeInteger(n) && n >= min && (max === undefined || n <= max);
    return ok ? n : fail(max === undefined ? `must be an integer >= ${min}, got '${s}'` : `must be an integer from ${min} to ${max}, got '${s}'`);
  });
}

/** A finite number, optionally bounded (`gt`, `ge`, `lt`). */
export function num(bounds: { gt?: number; ge?: number; lt?: number } = {}): v.GenericSchema<string, number> {
  const said = [bounds.gt !== undefined ? `> ${bounds.gt}` : bounds.ge !== undefined ? `>= ${bounds.ge}` : '', bounds.lt !== undefined ? `< ${bounds.lt}` : ''].filter((x) => x !== '');
  const what = said.length === 2 && bounds.ge !== undefined ? `a number in [${bounds.ge}, ${bounds.lt})` : `a number${said.length > 0 ? ` ${said.join(' and ')}` : ''}`;
  return parsing((s) => {
    const n = Number(s);
    const ok = s.trim() !== '' && Number.isFinite(n) && (bounds.gt === undefined || n > bounds.gt) && (bounds.ge === undefined || n >= bounds.ge) && (bounds.lt === undefined || n < bounds.lt);
    return ok ? n : fail(`must be ${what}, got '${s}'`);
  });
}

/** One of `choices`: `{flag} must be one of a, b, got 'c'`. */
export function choice<const T extends string>(choices: readonly T[], listed = `one of ${choices.join(', ')}`): v.GenericSchema<string, T> {
  return parsing((s) => ((choices as readonly string[]).includes(s) ? (s as T) : fail(`must be ${listed}, got '${s}'`)));
}

/** Any string (the value as given; for options whose content a package parses). */
export function text(): v.GenericSchema<string, string> {
  return v.string();
}

/** A comma-separated list, each entry parsed by `item` (entries trimmed; empty ones are an error naming the position). */
export function list<T>(item: (entry: string, index: number, all: string) => T): v.GenericSchema<string, T[]> {
  return parsing((s) =>
    s.split(',').map((e, i) => {
      const t = e.trim();
      if (t === '') fail(`'${s}' has an empty entry at position ${i + 1}`);
      return item(t, i, s);
    }),
  );
}

/** A custom parser (throws FlagValueError/USAGE BasisError with the message). */
export function custom<T>(fn: (s: string) => T): v.GenericSchema<string, T> {
  return parsing(fn);
}

/** An option that takes a value: `--epochs <n>`. Absent and without a default, its value is undefined. */
export function value<T>(placeholder: string, help: string, schema: FlagSchema<T>): OptionDecl<T | undefined>;
export function value<T>(placeholder: string, help: string, schema: FlagSchema<T>, opts: { default: string | number }): OptionDecl<T>;
export function value<T>(placeholder: string, help: string, schema: FlagSchema<T>, opts?: { default: string | number }): OptionDecl<T | undefined> {
  const inner = schema.async
    ? opts === undefined
      ? v.optionalAsync(schema)
      : v.optionalAsync(schema, String(opts.default))
    : opts === undefined
      ? v.optional(schema)
      : v.optional(schema, String(opts.default));
  return { kind: 'value', placeholder, help, ...(opts === undefined ? {} : { default: opts.default }), schema: inner as unknown as v.GenericSchema<RawValue | undefined, T | undefined> };
}

/** A switch: `--quick` (false when absent). */
export function flag(help: string): OptionDecl<boolean> {
  return { kind: 'switch', help, schema: v.optional(v.boolean(), false) as unknown as v.GenericSchema<RawValue | undefined, boolean> };
}

/** An option whose value may be left out: `--queue [url]` gives true without a value. */
export function optionalValue(placeholder: string, help: string): OptionDecl<string | true | undefined> {
  return { kind: 'optional-value', placeholder, help, schema: v.optional(v.union([v.literal(true), v.string()])) as unknown as v.GenericSchema<RawValue | undefined, string | true | undefined> };
}

/** A repeatable option: `--key-map <rule>` given any number of times (undefined when absent). */
export function repeatable<T>(placeholder: string, help: string, item: v.GenericSchema<string, T>): OptionDecl<T[] | undefined> {
  return { kind: 'repeatable', placeholder, help, schema: v.optional(v.array(item)) as unknown as v.GenericSchema<RawValue | undefined, T[] | undefined> };
}

/**
 * Parses the raw values of `decls` (by key) with one valibot object schema, applying defaults;
 * the first problem becomes a USAGE error naming the flag: `--epochs must be an integer >= 1, got '-1'`.
 */
export function parseOptions<O extends OptionDecls>(decls: O, raw: Readonly<Record<string, RawValue>>): ParsedOptions<O> {
  const entries = Object.entries(decls).map(([k, d]): [string, v.GenericSchema] => {
    if (d.schema.async) throw new BasisError('INVALID_ARGUMENT', `option '${k}' has a deferred schema: parse these options with parseOptionsAsync`);
    return [k, d.schema];
  });
  const r = v.safeParse(v.object(Object.fromEntries(entries)), raw);
  if (r.success) return r.output as ParsedOptions<O>;
  return flagProblem(r.issues[0]);
}

/**
 * {@link parseOptions} for options that may have {@link deferred} schemas (loaded now).
 *
 * @example
 * ```ts
 * const opts = await parseOptionsAsync(command.options, parsed.options);
 * ```
 */
export async function parseOptionsAsync<O extends OptionDecls>(decls: O, raw: Readonly<Record<string, RawValue>>): Promise<ParsedOptions<O>> {
  const schema = v.objectAsync(Object.fromEntries(Object.entries(decls).map(([k, d]) => [k, d.schema])));
  const r = await v.safeParseAsync(schema, raw);
  if (r.success) return r.output as ParsedOptions<O>;
  return flagProblem(r.issues[0]);
}

/** The first problem of a parse as a USAGE error naming the flag. */
function flagProblem(issue: v.BaseIssue<unknown>): never {
  const pathKey = issue.path?.[0]?.key;
  const key = typeof pathKey === 'string' || typeof pathKey === 'number' ? String(pathKey) : '';
  const name = flagName(key);
  const message = issue.message.includes('{flag}') ? issue.message.replaceAll('{flag}', name) : `${name} ${issue.message}`;
  throw new BasisError('USAGE', message);
}
