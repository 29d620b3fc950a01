// The declaration-driven argv parser and option schemas, in-process (the binary tests in
// cli.test.ts and the per-command tests run the same code through bin/basis.js).
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { BasisError } from '@basis/tensor';
import { main } from '../index.js';
import { parseArgv } from './argv.js';
import { COMMANDS, GLOBAL_OPTIONS } from './commands.js';
import { args, choice, command, deferred, flag, FlagValueError, flagName, int, list, num, optionalValue, parseOptions, parseOptionsAsync, repeatable, text, value, type OptionDecls } from './declare.js';
import { renderCommandHelp } from './help.js';

const demo = command({
  name: 'demo',
  args: args('<a>', '[b]'),
  summary: 'a test command',
  options: {
    epochs: value('n', 'epochs', int(1)),
    lr: value('x', 'learning rate', num({ gt: 0 }), { default: 0.1 }),
    kind: value('k', 'kind', choice(['a', 'b'])),
    quick: flag('quick'),
    queue: optionalValue('url', 'queue'),
    keyMap: repeatable('rule', 'rules', text()),
    widths: value('list', 'widths', list((s) => Number(s))),
  },
  examples: ['basis demo x --epochs 2'],
  run: () => Promise.resolve(undefined),
});

const parse = (...argv: string[]) => {
  const p = parseArgv(['demo', ...argv], [demo], GLOBAL_OPTIONS);
  if (p.kind !== 'run') throw new Error(`not a run: ${p.kind}`);
  return { ...p, opts: parseOptions(demo.options, p.options) };
};

const usage = (f: () => unknown): string => {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(BasisError);
    expect((e as BasisError).code).toBe('USAGE');
    return (e as Error).message;
  }
  throw new Error('no error');
};

describe('argv parser', () => {
  it('keeps values as typed until the schema parses them once (no number round trip)', () => {
    const p = parse('x', '--epochs', '08', '--kind', 'b', '--widths', '64, 32', '--quick', '--key-map', 'a=b', '--key-map=c=d');
    expect(p.args).toEqual({ a: 'x', b: undefined });
    expect(p.options).toEqual({ epochs: '08', kind: 'b', widths: '64, 32', quick: true, keyMap: ['a=b', 'c=d'] });
    expect(p.opts).toEqual({ epochs: 8, lr: 0.1, kind: 'b', quick: true, queue: undefined, keyMap: ['a=b', 'c=d'], widths: [64, 32] });
  });

  it('takes negative numbers as values, so the range error names the flag and the value', () => {
    for (const v of ['-1', '-0.5', '-1e3', '-.5', '-Infinity']) {
      expect(usage(() => parse('x', '--epochs', v)), v).toBe(`--epochs must be an integer >= 1, got '${v}'`);
      expect(usage(() => parse('x', `--lr=${v}`)), v).toBe(`--lr must be a number > 0, got '${v}'`);
    }
    // a negative number is also a positional argument
    expect(parse('-3').args).toEqual({ a: '-3', b: undefined });
  });

  it('echoes an unknown flag as typed, with the closest known one', () => {
    expect(usage(() => parse('x', '--epoch', '3'))).toBe("unknown option '--epoch'; did you mean --epochs?; 'basis demo --help' lists its options");
    expect(usage(() => parse('x', '--keyMap', 'a=b'))).toMatch(/^unknown option '--keyMap'; did you mean --key-map\?/);
    expect(usage(() => parse('x', '--zzzzzzzz'))).toBe("unknown option '--zzzzzzzz'; 'basis demo --help' lists its options");
    expect(usage(() => parse('x', '-q'))).toMatch(/^unknown option '-q'/);
    expect(usage(() => parseArgv(['--nope', 'demo'], [demo], GLOBAL_OPTIONS))).toMatch(/^unknown option '--nope'; 'basis --help' lists the global options/);
  });

  it('rejects a missing value, a repeated option, a switch with a value, missing and extra arguments', () => {
    expect(usage(() => parse('x', '--epochs'))).toBe('--epochs needs a value (--epochs <n>)');
    expect(usage(() => parse('x', '--epochs', '--quick'))).toBe('--epochs needs a value (--epochs <n>)');
    expect(usage(() => parse('x', '--epochs', '1', '--epochs', '2'))).toBe('--epochs was given more than once');
    expect(usage(() => parse('x', '--quick=yes'))).toBe("--quick is a switch and takes no value, got 'yes'");
    expect(usage(() => parse('--quick'))).toBe('basis demo needs the argument <a> (basis demo <a> [b])');
    expect(usage(() => parse('x', 'y', 'z'))).toBe("unexpected argument 'z' for basis demo <a> [b]");
    expect(usage(() => parseArgv(['demox'], [demo], GLOBAL_OPTIONS))).toMatch(/^unknown command 'demox'; did you mean demo\?/);
  });

  it('optional values, -- and global options anywhere', () => {
    expect(parse('x', '--queue').opts.queue).toBe(true);
    expect(parse('x', '--queue', 'redis://h:1').opts.queue).toBe('redis://h:1');
    expect(parse('x', '--queue', '--quick').opts).toMatchObject({ queue: true, quick: true });
    expect(parse('x', '--', '--epochs').args).toEqual({ a: 'x', b: '--epochs' });
    const p = parseArgv(['--seed', '3', 'demo', 'x', '--json', '--threads=2'], [demo], GLOBAL_OPTIONS);
    expect(p.kind === 'run' ? p.global : null).toEqual({ seed: '3', json: true, threads: '2' });
    expect(parseOptions(GLOBAL_OPTIONS, { seed: '3' })).toMatchObject({ backend: 'auto', seed: 3, json: false, quiet: false });
    expect(usage(() => parseOptions(GLOBAL_OPTIONS, { seed: '-3' }))).toBe("--seed must be a non-negative integer, got '-3'");
    expect(usage(() => parseOptions(GLOBAL_OPTIONS, { threads: '0' }))).toMatch(/^--threads must be a positive integer \(or 'all'\), got '0'/);
  });

  it('help and version win over everything else', () => {
    expect(parseArgv(['--help'], [demo], GLOBAL_OPTIONS)).toEqual({ kind: 'help' });
    expect(parseArgv(['demo', '-h', '--epoch'], [demo], GLOBAL_OPTIONS).kind).toBe('help');
    expect(parseArgv(['demo', '--help'], [demo], GLOBAL_OPTIONS)).toEqual({ kind: 'help', command: demo });
    expect(parseArgv(['-v'], [demo], GLOBAL_OPTIONS)).toEqual({ kind: 'version' });
    expect(parseArgv([], [demo], GLOBAL_OPTIONS)).toEqual({ kind: 'none' });
  });

  it('renders help from the declaration: every option with its placeholder and default, and the examples', () => {
    const h = renderCommandHelp('1.2.3', demo, GLOBAL_OPTIONS);
    expect(h).toContain('$ basis demo <a> [b] [options]');
    expect(h).toMatch(/--lr <x>\s+learning rate \(default: 0\.1\)/);
    expect(h).toMatch(/--queue \[url\]\s+queue/);
    expect(h).toMatch(/--key-map <rule>\s+rules \(repeatable\)/);
    expect(h).toMatch(/--backend <name>\s+tfjs backend.*\(default: auto\)/);
    expect(h).toContain('  basis demo x --epochs 2');
  });
});

describe('deferred schemas (a parser loaded when the command runs)', () => {
  it('load the parser only for a given option, name the flag in its errors, and need parseOptionsAsync', async () => {
    let loads = 0;
    const decls = {
      arch: value('name', 'architecture', deferred(() => {
        loads++;
        return Promise.resolve((s: string) => (s === 'mlp' || s === 'cnn' ? s : fail(`must be mlp or cnn, got '${s}'`)));
      })),
      depth: value('n', 'depth', int(1), { default: 2 }),
    };
    await expect(parseOptionsAsync(decls, {})).resolves.toEqual({ arch: undefined, depth: 2 });
    expect(loads).toBe(0);
    await expect(parseOptionsAsync(decls, { arch: 'cnn', depth: '3' })).resolves.toEqual({ arch: 'cnn', depth: 3 });
    expect(loads).toBe(1);
    const e = await parseOptionsAsync(decls, { arch: 'vgg' }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(BasisError);
    expect((e as BasisError).code).toBe('USAGE');
    expect((e as BasisError).message).toBe("--arch must be mlp or cnn, got 'vgg'");
    expect(() => parseOptions(decls, {})).toThrow(/option 'arch' has a deferred schema: parse these options with parseOptionsAsync/);
  });
});

function fail(message: string): never {
  throw new FlagValueError(message);
}

describe('the command table', () => {
  it('declares unique commands whose defaults pass their own schemas and whose examples use declared flags', async () => {
    expect(new Set(COMMANDS.map((c) => c.name)).size).toBe(COMMANDS.length);
    const globalFlags = Object.keys(GLOBAL_OPTIONS).map(flagName);
    for (const c of COMMANDS) {
      // every default parses (an absent option takes its default through the same schema)
      await expect(parseOptionsAsync(c.options as OptionDecls, {}), c.name).resolves.toBeDefined();
      const flags = new Set([...Object.keys(c.options as OptionDecls).map(flagName), ...globalFlags]);
      for (const e of c.examples.filter((x) => x.startsWith(`basis ${c.name} `) || x === `basis ${c.name}`)) {
        for (const m of e.split('#')[0]!.matchAll(/\s(--[a-z][\w-]*)/g)) expect(flags.has(m[1]!), `${c.name}: ${e}`).toBe(true);
      }
    }
  });

  it('runs through main: typed options, cheap checks first, one-line usage errors', async () => {
    let err = '';
    const sink = (w: (s: string) => void) => new Writable({ write: (chunk: Buffer, _e, done) => (w(String(chunk)), done()) });
    const io = { stdout: sink(() => undefined), stderr: sink((s) => (err += s)) };
    const cases: [string[], RegExp][] = [
      [['interpolate', 'no-such-a', 'no-such-b', '--points', '-1'], /^basis: error \[USAGE\]: --points must be an integer >= 2, got '-1'\n$/],
      [['stitch', 'no-such-a', 'no-such-b', '--kind', 'rank:0', '--layer', 'layers.1'], /--kind must be identity, permutation, affine, grelu or rank:R, got 'rank:0'/],
      [['llfc', 'a', 'b', '--alphas', '0.5,x'], /--alphas must be comma-separated numbers, got 'x'/],
      [['compare', 'a.npy', 'b.npy', '--max-memory', 'lots'], /--max-memory must be a size/],
      [['compare', 'a.npy', 'b.npy', '--options', '{k:3}'], /--options is not valid JSON/],
      [['train', '--epoch', '3'], /unknown option '--epoch'; did you mean --epochs\?/],
      [['degeneracy', 'm', '--eps', '1e-3,-1'], /--eps entry 2 must be a positive number, got '-1'/],
      [['queue', 'status', '--force=1'], /--force is a switch and takes no value/],
    ];
    for (const [argv, want] of cases) {
      err = '';
      expect(await main(argv, io), argv.join(' ')).toBe(2);
      expect(err, argv.join(' ')).toMatch(want);
    }
  });
});
