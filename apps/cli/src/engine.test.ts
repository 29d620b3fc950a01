// The compute engine from the command line: `basis info` shows it, `--threads` sets it, a missing
// library falls back to WebAssembly with one informational line (none under --quiet, --json or
// BASIS_BLAS=off), and results record it. Runs the real built binary.
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { createRng, matrixToNpy, randn } from '@basis/tensor';
import { DETERMINISM, fallbackNotice, installHint } from './engine.js';
import { basisWithEnv } from './test-helpers.js';

const EXAMPLES = fileURLToPath(new URL('../../../examples/', import.meta.url));
const A = join(EXAMPLES, 'a.npy');
const B = join(EXAMPLES, 'b.npy');
const MISSING = '/nonexistent/libopenblas.so.0';
/** A system OpenBLAS file on this machine (checked on disk, not by asking the engine). */
const SYSTEM_OPENBLAS = ['/usr/lib/x86_64-linux-gnu/libopenblas.so.0', '/usr/lib/aarch64-linux-gnu/libopenblas.so.0', '/usr/lib64/libopenblas.so.0'].find((p) => existsSync(p));
const NOTICE = /^basis: using WebAssembly kernels \(/;

interface EngineJson {
  provider: 'native' | 'wasm';
  requested: string;
  library?: string;
  coreType?: string;
  threads: number;
  reason?: string;
  tried?: string[];
  threadBudget: number;
  determinism: string;
}

const dir = mkdtempSync(join(tmpdir(), 'basis-engine-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('basis info: the compute engine', () => {
  it.skipIf(SYSTEM_OPENBLAS === undefined)('finds the system OpenBLAS from the built binary when BASIS_BLAS is unset, and shows it', async () => {
    const r = await basisWithEnv({ BASIS_BLAS: undefined, BASIS_THREADS: undefined }, 'info', '--json');
    expect(r.code, r.stderr).toBe(0);
    const e = (JSON.parse(r.stdout) as { engine: EngineJson }).engine;
    expect(e.provider).toBe('native');
    expect(e.library).toMatch(/^\/.*openblas/);
    expect(e.coreType).toMatch(/\S/);
    expect(e.threads).toBeGreaterThanOrEqual(1);
    expect(e.determinism).toBe(DETERMINISM);
    const human = await basisWithEnv({ BASIS_BLAS: undefined, BASIS_THREADS: '1' }, 'info');
    expect(human.stdout).toMatch(/compute engine\s+native \(openblas/);
    expect(human.stdout).toMatch(/core type\s+\S/);
    expect(human.stdout).toMatch(/engine threads\s+1 /);
    if (process.platform === 'linux') expect(human.stdout).toMatch(/huge pages for large buffers\s+advised/);
    const off = await basisWithEnv({ BASIS_BLAS: undefined, BASIS_HUGEPAGES: 'off' }, 'info');
    expect(off.stdout).toMatch(/huge pages for large buffers\s+no/);
    expect(human.stdout).toMatch(/determinism\s+bit-identical for the same provider, core type and thread count/);
    expect(human.stderr).toBe('');
  });

  it('--threads sets the thread budget (and the native threads); bad values are usage errors', async () => {
    const r = await basisWithEnv({}, 'info', '--json', '--threads', '1');
    expect(r.code, r.stderr).toBe(0);
    const e = (JSON.parse(r.stdout) as { engine: EngineJson }).engine;
    expect(e.threadBudget).toBe(1);
    expect(e.threads).toBe(1);
    const all = await basisWithEnv({ BASIS_THREADS: '1' }, 'info', '--json', '--threads', 'all');
    expect((JSON.parse(all.stdout) as { engine: EngineJson }).engine.threadBudget).toBeGreaterThanOrEqual(1);
    for (const bad of ['0', 'lots', '1.5']) {
      const b = await basisWithEnv({}, 'info', '--threads', bad);
      expect(b.code, bad).toBe(2);
      expect(b.stderr).toMatch(/^basis: error \[USAGE\]: --threads must be a positive integer \(or 'all'\)/);
    }
  });

  it('BASIS_BLAS=off: WebAssembly, the reason shown, nothing printed on stderr', async () => {
    const r = await basisWithEnv({ BASIS_BLAS: 'off' }, 'info', '--json');
    const e = (JSON.parse(r.stdout) as { engine: EngineJson }).engine;
    expect(e).toMatchObject({ provider: 'wasm', requested: 'off', reason: 'BASIS_BLAS=off', threads: 1 });
    const human = await basisWithEnv({ BASIS_BLAS: 'off' }, 'info');
    expect(human.stdout).toMatch(/compute engine\s+wasm/);
    expect(human.stdout).toMatch(/why wasm\s+BASIS_BLAS=off/);
    const c = await basisWithEnv({ BASIS_BLAS: 'off' }, 'compare', A, B, '--metric', 'cka.linear');
    expect(c.code).toBe(0);
    expect(c.stderr).not.toMatch(/WebAssembly/);
  });

  it('a library that cannot be loaded: WebAssembly with one informational line, never an error', async () => {
    const info = await basisWithEnv({ BASIS_BLAS: MISSING }, 'info');
    expect(info.code).toBe(0);
    expect(info.stdout).toMatch(/why wasm\s+BASIS_BLAS=\/nonexistent\/libopenblas\.so\.0 could not be used/);
    expect(info.stdout).toMatch(/tried\s+\/nonexistent\/libopenblas\.so\.0: /);
    expect(info.stderr).not.toMatch(NOTICE); // info shows the engine itself
    const c = await basisWithEnv({ BASIS_BLAS: MISSING }, 'compare', A, B, '--metric', 'cka.linear');
    expect(c.code, c.stderr).toBe(0);
    const notices = c.stderr.split('\n').filter((l) => NOTICE.test(l));
    expect(notices).toHaveLength(1);
    expect(notices[0]).toContain('could not be used');
    expect(notices[0]).toContain(installHint());
    const ref = await basisWithEnv({ BASIS_BLAS: 'off' }, 'compare', A, B, '--metric', 'cka.linear', '--json');
    const j = await basisWithEnv({ BASIS_BLAS: MISSING }, 'compare', A, B, '--metric', 'cka.linear', '--json');
    expect(j.stderr).not.toMatch(NOTICE);
    expect((JSON.parse(j.stdout) as { metrics: unknown }).metrics).toEqual((JSON.parse(ref.stdout) as { metrics: unknown }).metrics);
    const q = await basisWithEnv({ BASIS_BLAS: MISSING }, 'compare', A, B, '--metric', 'cka.linear', '--quiet');
    expect(q.stderr).toBe('');
  });

  it('the notice names the reason and what to install; nothing when native or off', () => {
    expect(fallbackNotice({ provider: 'wasm', requested: 'auto', threads: 1, reason: 'no system BLAS/LAPACK found (tried OpenBLAS, libblas.so.3 + liblapack.so.3, Accelerate)', tried: ['libopenblas.so.0: cannot open'] })).toBe(
      `basis: using WebAssembly kernels (no system BLAS/LAPACK found (tried OpenBLAS, libblas.so.3 + liblapack.so.3, Accelerate); ${installHint()})`,
    );
    expect(fallbackNotice({ provider: 'wasm', requested: 'auto', threads: 1, reason: 'koffi is not installed (an optional dependency of @basis/tensor)' })).toMatch(/koffi is not installed.*pnpm install/);
    expect(fallbackNotice({ provider: 'wasm', requested: 'off', threads: 1, reason: 'BASIS_BLAS=off' })).toBeNull();
    expect(fallbackNotice({ provider: 'native', requested: 'auto', threads: 2 })).toBeNull();
    expect(installHint('linux')).toBe('on Debian/Ubuntu: apt-get install libopenblas0-pthread');
    expect(installHint('darwin')).toMatch(/Accelerate.*brew install openblas/);
    expect(installHint('win32')).toMatch(/BASIS_BLAS=/);
  });
});

describe('results record the engine', () => {
  it('compare --json and compare --layers (audit.json) carry engineInfo', async () => {
    const c = await basisWithEnv({ BASIS_THREADS: '1' }, 'compare', A, B, '--metric', 'cka.linear', '--json');
    const engine = (JSON.parse(c.stdout) as { engine: EngineJson }).engine;
    const info = (JSON.parse((await basisWithEnv({ BASIS_THREADS: '1' }, 'info', '--json')).stdout) as { engine: EngineJson }).engine;
    const { threadBudget: _b, determinism: _d, ...plain } = info;
    expect(engine).toEqual(plain);
    const rng = createRng(3);
    for (const side of ['a', 'b']) {
      mkdirSync(join(dir, side));
      writeFileSync(join(dir, side, 'l0.npy'), matrixToNpy(randn(50, 4, rng)));
    }
    const out = join(dir, 'out');
    const r = await basisWithEnv({ BASIS_BLAS: 'off' }, 'compare', '--layers', join(dir, 'a'), join(dir, 'b'), '--metric', 'cka.linear', '--out', out, '--quiet');
    expect(r.code, r.stderr).toBe(0);
    const audit = JSON.parse(readFileSync(join(out, 'audit.json'), 'utf8')) as { engine: EngineJson };
    expect(audit.engine).toMatchObject({ provider: 'wasm', requested: 'off', threads: 1 });
  });
});
