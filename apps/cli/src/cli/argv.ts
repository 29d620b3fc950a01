// The argv tokenizer, driven by the command declarations: it finds the command, splits options
// from positional arguments and hands every option's value over as the string typed (numbers are
// never converted here: each command's schema parses them once). A value may start with '-'
// (`--epochs -1` is the value -1, and the schema gives the range error), and an unknown flag is
// echoed as typed.
import { BasisError } from '@basis/tensor';
import { flagName, type AnyCommand, type OptionDecl, type OptionDecls, type RawValue } from './declare.js';

/** What argv asks for. */
export type ParsedArgv =
  | { kind: 'help'; command?: AnyCommand }
  | { kind: 'version' }
  | { kind: 'none' }
  | { kind: 'run'; command: AnyCommand; args: Record<string, string | undefined>; global: Record<string, RawValue>; options: Record<string, RawValue> };

const usage = (message: string): never => {
  throw new BasisError('USAGE', message);
};

/** Levenshtein distance (for "did you mean"). */
function distance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) => [i, ...new Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) (d[0] as number[])[j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const row = d[i] as number[];
      const prev = d[i - 1] as number[];
      row[j] = Math.min((prev[j] as number) + 1, (row[j - 1] as number) + 1, (prev[j - 1] as number) + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
  }
  return (d[a.length] as number[])[b.length] as number;
}

function suggestion(typed: string, names: readonly string[]): string {
  let best: string | undefined;
  let bestD = Infinity;
  for (const n of names) {
    const dd = distance(typed, n);
    if (dd < bestD) [best, bestD] = [n, dd];
  }
  return best !== undefined && bestD <= Math.max(2, Math.floor(typed.length / 3)) ? `; did you mean ${best}?` : '';
}

/** A token that is a value, not a flag: anything not starting with '-', a negative number, or '-' alone. */
function isValueToken(t: string): boolean {
  return !t.startsWith('-') || t === '-' || /^-(\d|\.\d|Infinity$|NaN$)/.test(t);
}

/**
 * Splits `argv` (without the node and script paths) into the command, its positional arguments and
 * the raw option values (by camelCase key), global options apart. Throws USAGE errors for an unknown
 * command or option, a missing value, an option given twice, a missing or extra argument.
 *
 * @example
 * ```ts
 * parseArgv(['compare', 'a.npy', 'b.npy', '--metric', 'cka.linear'], COMMANDS, GLOBAL_OPTIONS);
 * // { kind: 'run', command: <compare>, args: { a: 'a.npy', b: 'b.npy' }, options: { metric: 'cka.linear' }, global: {} }
 * ```
 */
export function parseArgv(argv: readonly string[], commands: readonly AnyCommand[], globals: OptionDecls): ParsedArgv {
  const byFlag = (decls: OptionDecls): Map<string, [string, OptionDecl]> => new Map(Object.entries(decls).map(([k, d]) => [flagName(k), [k, d]]));
  const globalFlags = byFlag(globals);
  let command: AnyCommand | undefined;
  let commandFlags = new Map<string, [string, OptionDecl]>();
  const positionals: string[] = [];
  const global: Record<string, RawValue> = {};
  const options: Record<string, RawValue> = {};
  // --help / -h (before any `--`) wins over everything else, even a wrong flag: help for the command named, if any
  const dashDash = argv.indexOf('--');
  const head = dashDash < 0 ? argv : argv.slice(0, dashDash);
  if (head.includes('--help') || head.includes('-h')) {
    const named = commands.find((c) => head.includes(c.name));
    return named === undefined ? { kind: 'help' } : { kind: 'help', command: named };
  }
  if (head.includes('--version') || head.includes('-v')) return { kind: 'version' };
  let i = 0;
  let rest = false;
  while (i < argv.length) {
    const token = argv[i++] as string;
    if (rest || isValueToken(token)) {
      if (command === undefined && !rest) {
        command = commands.find((c) => c.name === token);
        if (command === undefined) usage(`unknown command '${token}'${suggestion(token, commands.map((c) => c.name))}; run 'basis --help' for the list of commands`);
        commandFlags = byFlag((command as AnyCommand).options as OptionDecls);
      } else positionals.push(token);
      continue;
    }
    if (token === '--') {
      rest = true;
      continue;
    }
    const eq = token.startsWith('--') ? token.indexOf('=') : -1;
    const name = eq > 0 ? token.slice(0, eq) : token;
    const inline = eq > 0 ? token.slice(eq + 1) : undefined;
    const own = commandFlags.get(name);
    const found = own ?? globalFlags.get(name);
    if (found === undefined) {
      const known = [...commandFlags.keys(), ...globalFlags.keys(), '--help', '--version'];
      const where = command === undefined ? "'basis --help' lists the global options" : `'basis ${command.name} --help' lists its options`;
      usage(`unknown option '${name}'${name.startsWith('--') ? suggestion(name, known) : ''}; ${where}`);
    }
    const [key, decl] = found as [string, OptionDecl];
    const into = own !== undefined ? options : global;
    if (decl.kind === 'switch') {
      if (inline !== undefined) usage(`${name} is a switch and takes no value, got '${inline}'`);
      into[key] = true;
      continue;
    }
    let val: string | true;
    if (inline !== undefined) val = inline;
    else if (i < argv.length && isValueToken(argv[i] as string) && !(decl.kind === 'optional-value' && argv[i] === '-')) val = argv[i++] as string;
    else if (decl.kind === 'optional-value') val = true;
    else val = usage(`${name} needs a value (${name} <${decl.placeholder ?? 'value'}>)`);
    if (decl.kind === 'repeatable') {
      into[key] = [...((into[key] as readonly string[] | undefined) ?? []), val as string];
      continue;
    }
    if (into[key] !== undefined) usage(`${name} was given more than once`);
    into[key] = val;
  }
  if (command === undefined) return { kind: 'none' };
  const args: Record<string, string | undefined> = {};
  command.args.forEach((a, k) => {
    const given = positionals[k];
    if (given === undefined && a.required) usage(`basis ${command.name} needs the argument <${a.name}> (${usageLine(command)})`);
    args[a.name] = given;
  });
  if (positionals.length > command.args.length) usage(`unexpected argument '${positionals[command.args.length] as string}' for ${usageLine(command)}`);
  return { kind: 'run', command, args, global, options };
}

/** `basis compare [a] [b]`. */
export function usageLine(c: AnyCommand): string {
  return ['basis', c.name, ...c.args.map((a) => (a.required ? `<${a.name}>` : `[${a.name}]`))].join(' ');
}
