// `--help`, rendered from the command declarations (the docs' CLI reference renders the same text).
import { flagName, type AnyCommand, type OptionDecl, type OptionDecls } from './declare.js';
import { usageLine } from './argv.js';

/** `--max-memory <size>`, `--queue [url]`, `--quick`. */
export function optionUsage(key: string, d: OptionDecl): string {
  const name = flagName(key);
  if (d.kind === 'switch') return name;
  return d.kind === 'optional-value' ? `${name} [${d.placeholder ?? 'value'}]` : `${name} <${d.placeholder ?? 'value'}>`;
}

/** One option's help text: its line, `(repeatable)` and `(default: X)`. */
export function optionHelp(d: OptionDecl): string {
  return `${d.help}${d.kind === 'repeatable' ? ' (repeatable)' : ''}${d.default === undefined ? '' : ` (default: ${d.default})`}`;
}

function columns(rows: [string, string][]): string[] {
  const w = Math.max(...rows.map(([l]) => l.length));
  return rows.map(([l, r]) => `  ${l.padEnd(w)}  ${r}`.trimEnd());
}

function optionRows(...sets: OptionDecls[]): [string, string][] {
  return [...sets.flatMap((s) => Object.entries(s).map(([k, d]): [string, string] => [optionUsage(k, d), optionHelp(d)])), ['-h, --help', 'Display this message']];
}

/** `basis --help`: the commands, then the global options. */
export function renderHelp(version: string, commands: readonly AnyCommand[], globals: OptionDecls): string {
  return [
    `basis/${version}`,
    '',
    'Usage:',
    '  $ basis <command> [options]',
    '',
    'Commands:',
    ...columns(commands.map((c) => [usageLine(c).slice('basis '.length), c.summary])),
    '',
    'For more info, run any command with the `--help` flag:',
    ...commands.map((c) => `  $ basis ${c.name} --help`),
    '',
    'Options:',
    ...columns([...optionRows(globals), ['-v, --version', 'Display version number']]),
  ].join('\n');
}

/** `basis <command> --help`: usage, summary, the command's options, the global options, examples. */
export function renderCommandHelp(version: string, c: AnyCommand, globals: OptionDecls): string {
  return [
    `basis/${version}`,
    '',
    'Usage:',
    `  $ ${usageLine(c)} [options]`,
    '',
    c.summary,
    '',
    'Options:',
    ...columns(optionRows(c.options as OptionDecls, globals)),
    ...(c.examples.length === 0 ? [] : ['', 'Examples:', ...c.examples.map((e) => `  ${e}`)]),
  ].join('\n');
}
