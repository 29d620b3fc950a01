import { basis } from './test-helpers.js';
import { describe, expect, it } from 'vitest';
import { parseActivation } from './commands/symmetry.js';


describe('basis symmetry', () => {
  it('table: every row computed and agreeing with the closed forms (JSON)', async () => {
    const r = await basis('symmetry', 'table', '--json', '--seed', '3');
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout) as { rows: Array<{ id: string; agree: boolean; probed: string; orthogonalResidual: number }> };
    expect(out.rows.map((x) => x.id)).toContain('relu');
    for (const row of out.rows) expect(row.agree, row.id).toBe(true);
    expect(out.rows.find((x) => x.id === 'relu')!.probed).toBe('P·D, D > 0 (G_ReLU)');
    expect(out.rows.find((x) => x.id === 'relu')!.orthogonalResidual).toBeGreaterThan(0.1);
  });

  it('table: human output names the groups', async () => {
    const r = await basis('symmetry', 'table', '--quiet');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/relu\s+max\(x, 0\)\s+P·D, D > 0 \(G_ReLU\)/);
    expect(r.stdout).toMatch(/rbf .*\|A\|/);
    expect(r.stderr).toBe('');
  });

  it('probe: a user-supplied function and a registry id', async () => {
    const silu = await basis('symmetry', 'probe', '--fn', 'x => x / (1 + Math.exp(-x))', '--json');
    expect(silu.code).toBe(0);
    expect((JSON.parse(silu.stdout) as { group: string }).group).toBe('permutation');
    const abs = await basis('symmetry', 'probe', '--fn', 'Math.abs(x)', '--json');
    expect(JSON.parse(abs.stdout)).toMatchObject({ group: 'monomial', phi: 'abs' });
    const leaky = await basis('symmetry', 'probe', '--fn', 'leaky_relu', '--slope', '1', '--json');
    expect((JSON.parse(leaky.stdout) as { group: string }).group).toBe('invertible');
    const human = await basis('symmetry', 'probe', '--fn', 'tanh');
    expect(human.stdout).toContain('intertwiner group (families tried): P·D, D ∈ {±1}');
  });

  it('bad input: exit 2 for usage errors, 1 for runtime errors, one line on stderr', async () => {
    const missing = await basis('symmetry', 'probe');
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/needs --fn/);
    const syntax = await basis('symmetry', 'probe', '--fn', 'x =>');
    expect(syntax.code).toBe(2);
    const nan = await basis('symmetry', 'probe', '--fn', 'x => NaN');
    expect(nan.code).toBe(1);
    expect(nan.stderr).toMatch(/NON_FINITE_INPUT/);
    const unknown = await basis('symmetry', 'rotate');
    expect(unknown.code).toBe(2);
    const n = await basis('symmetry', 'table', '--n', '1');
    expect(n.code).toBe(2);
    expect(n.stderr.trim().split('\n')).toHaveLength(1);
  });

  it('parseActivation accepts arrows, function expressions and bare expressions', () => {
    expect(parseActivation('x => 2 * x')(3)).toBe(6);
    expect(parseActivation('function (x) { return x * x; }')(3)).toBe(9);
    expect(parseActivation('Math.max(x, 0)')(-1)).toBe(0);
    expect(() => parseActivation('x => "a"')(1)).toThrow(/must return a number/);
    expect(() => parseActivation('x => { throw new Error("boom") }')(1)).toThrow(/boom/);
  });
});
