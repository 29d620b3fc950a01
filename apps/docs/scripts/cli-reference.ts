// The CLI reference, generated from the CLI's command declarations (apps/cli/src/cli/commands.ts):
// the same renderer prints `basis --help` and `basis <command> --help`, so the page and the binary
// cannot disagree (generators.test.ts checks it against `main`).
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CLI_VERSION, COMMANDS, GLOBAL_OPTIONS, renderCommandHelp, renderHelp, usageLine } from '@basis/cli';

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

/**
 * The reference page: global help, then each command's help, in `basis --help` order, rendered from
 * the command declarations.
 *
 * @example
 * ```ts
 * const { markdown, commands } = cliReference();
 * ```
 */
export function cliReference(): { markdown: string; commands: CliCommand[] } {
  const commands: CliCommand[] = COMMANDS.map((c) => ({ name: c.name, usage: usageLine(c).slice('basis '.length), description: c.summary }));
  const pages = COMMANDS.map((c) => [`## basis ${c.name}`, '', escapeMdText(c.summary), '', '```text', wrapHelp(renderCommandHelp(CLI_VERSION, c, GLOBAL_OPTIONS)), '```', ''].join('\n'));
  const markdown = [
    '# CLI reference',
    '',
    'Generated at build time from the command declarations of `@basis/cli` (`apps/cli/src/cli/commands.ts`), the',
    'same that `basis --help` and `basis <command> --help` print, so it always matches the binary. Errors print one',
    'line `basis: error [CODE]: message` on stderr and exit with 2 (usage) or 1 (runtime).',
    '',
    '```text',
    wrapHelp(renderHelp(CLI_VERSION, COMMANDS, GLOBAL_OPTIONS)),
    '```',
    '',
    ...pages,
  ].join('\n');
  return { markdown, commands };
}
