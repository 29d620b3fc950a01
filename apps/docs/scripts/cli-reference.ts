// The CLI reference, generated from the CLI's own command definitions: the built `basis` binary's
// `--help` and `<command> --help` output (cac renders them from the same definitions it parses with).
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { BasisError } from '@basis/tensor';

const run = promisify(execFile);
const DOCS = join(dirname(fileURLToPath(import.meta.url)), '..');

/** Path of the `basis` binary of the workspace's @basis/cli. */
export function cliBin(): string {
  return join(DOCS, 'node_modules', '@basis', 'cli', 'bin', 'basis.js');
}

/** One command as listed by `basis --help`. */
export interface CliCommand {
  name: string;
  usage: string;
  description: string;
}

/** Parses the `Commands:` section of cac's top-level help. */
export function parseCommands(help: string): CliCommand[] {
  const lines = help.split('\n');
  const start = lines.findIndex((l) => l.trim() === 'Commands:');
  if (start < 0) throw new BasisError('BAD_FILE', 'basis --help printed no "Commands:" section');
  const out: CliCommand[] = [];
  for (const line of lines.slice(start + 1)) {
    if (line.trim() === '') break;
    const m = /^\s+(\S+(?: [<[][^\s>\]]+[>\]])*)\s{2,}(.*)$/.exec(line);
    if (m === null) throw new BasisError('BAD_FILE', `cannot parse command line of basis --help: ${JSON.stringify(line)}`);
    const usage = m[1] as string;
    out.push({ name: usage.split(' ')[0] as string, usage, description: (m[2] as string).trim() });
  }
  if (out.length === 0) throw new BasisError('BAD_FILE', 'basis --help lists no commands');
  return out;
}

async function help(args: string[]): Promise<string> {
  const { stdout } = await run(process.execPath, [cliBin(), ...args], { env: { ...process.env, NO_COLOR: '1' }, maxBuffer: 1 << 22 });
  return stdout.replace(/[ \t]+$/gm, '').trimEnd();
}

/** Escapes text for raw HTML inside a markdown page (attributes, `<figcaption>`); VitePress compiles pages as Vue templates. */
export function escapeMd(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/\{\{/g, '&#123;&#123;');
}

/**
 * Escapes plain text for markdown (headings, paragraphs, table cells) so that it renders, and is
 * taken as a page title or heading anchor, exactly once escaped: markdown punctuation gets a
 * backslash (markdown-it turns `\>` back into `>` in the text, and escapes it once for HTML), never an
 * HTML entity, which VitePress would escape a second time in titles and anchors (`&amp;gt;`).
 * Code spans (`` `x => 1` ``) are kept verbatim. `{{` (Vue interpolation) becomes `{&#8203;{`.
 *
 * @example
 * ```ts
 * escapeMdText('Linear > Procrustes'); // 'Linear \\> Procrustes'
 * ```
 */
export function escapeMdText(s: string): string {
  return s
    .split(/(`[^`\n]+`)/)
    .map((part, i) => (i % 2 === 1 ? part.replace(/\{\{/g, '{\u200b{') : part.replace(/[\\`*_[\]<>&#|]/g, (c) => `\\${c}`).replace(/\{\{/g, '{\u200b{')))
    .join('');
}

/** Columns of the reference's help blocks: they fit the docs' content column at 1400 px without scrolling. */
export const HELP_COLUMNS = 76;

/**
 * Wraps the long lines of `--help` text at `width` columns (words kept whole), indenting each
 * continuation under the start of the line's description column, so the reference page needs no
 * horizontal scrolling.
 *
 * @example
 * ```ts
 * wrapHelp('  --seed <n>  seed for every random draw, ...', 40);
 * ```
 */
export function wrapHelp(text: string, width = HELP_COLUMNS): string {
  return text
    .split('\n')
    .flatMap((line) => {
      if (line.length <= width) return [line];
      // continuation lines start under the description (after the first run of 2+ spaces past the indent)
      const m = /^(\s*\S.*?\s{2,})\S/.exec(line);
      const indent = m !== null && (m[1] as string).length < width / 2 ? (m[1] as string).length : (/^\s*/.exec(line)?.[0].length ?? 0) + 2;
      const out: string[] = [];
      let rest = line;
      let prefix = '';
      while (prefix.length + rest.length > width) {
        const room = width - prefix.length;
        let cut = rest.lastIndexOf(' ', room);
        // never break inside the option/command column of the first line
        if (cut < (out.length === 0 ? indent : 1)) cut = rest.indexOf(' ', Math.max(room, out.length === 0 ? indent : 1));
        // a word too long for any line (a list of file names) breaks after one of its commas
        const comma = rest.lastIndexOf(',', room - 1);
        if ((cut < 0 || cut > room) && comma > (out.length === 0 ? indent : 1)) {
          out.push(prefix + rest.slice(0, comma + 1));
          rest = rest.slice(comma + 1).trimStart();
          prefix = ' '.repeat(indent);
          continue;
        }
        if (cut < 0) break;
        out.push(prefix + rest.slice(0, cut).trimEnd());
        rest = rest.slice(cut + 1).trimStart();
        prefix = ' '.repeat(indent);
      }
      out.push(prefix + rest);
      // a word longer than the room under the description column moves left until it fits
      return out.map((l, k) => (k > 0 && l.length > width ? ' '.repeat(Math.max(2, width - l.trimStart().length)) + l.trimStart() : l));
    })
    .join('\n');
}

/** The reference page: global help, then each command's `--help`, in `basis --help` order. */
export async function cliReference(): Promise<{ markdown: string; commands: CliCommand[] }> {
  if (!existsSync(cliBin())) throw new BasisError('BAD_FILE', `no basis binary at ${cliBin()}; run pnpm install`);
  const top = await help(['--help']);
  const commands = parseCommands(top);
  const pages: string[] = new Array<string>(commands.length);
  // two at a time: each help call starts Node and loads the CLI (~0.5 s)
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < commands.length) {
      const i = next++;
      const c = commands[i] as CliCommand;
      pages[i] = [`## basis ${c.name}`, '', escapeMdText(c.description), '', '```text', wrapHelp(await help([c.name, '--help'])), '```', ''].join('\n');
    }
  };
  await Promise.all([worker(), worker()]);
  const markdown = [
    '# CLI reference',
    '',
    'Generated at build time from the `basis` binary itself (`basis --help` and `basis <command> --help`),',
    'so it always matches the command definitions. Errors print one line `basis: error [CODE]: message` on stderr',
    'and exit with 2 (usage) or 1 (runtime).',
    '',
    '```text',
    wrapHelp(top),
    '```',
    '',
    ...pages,
  ].join('\n');
  return { markdown, commands };
}
