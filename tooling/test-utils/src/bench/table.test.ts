import { describe, expect, it } from 'vitest';
import { fmtRatio, fmtSeconds, formatAcceptance, formatTable, rowRatio, rowVerdict, type AcceptanceRow } from './table.js';

const row = (basis: number | null, peer: number | null, maxRatio = 1): AcceptanceRow => ({
  section: 's',
  name: 'r',
  threads: 1,
  basis: { seconds: basis, tag: 'native Zen 1t' },
  peer: { seconds: peer, tag: 'numpy-system Zen 1t' },
  maxRatio,
});

describe('bench tables', () => {
  it('formats seconds with three significant digits and ratios', () => {
    expect([0.00123, 0.0123, 0.123, 1.234, 12.34, 123.4].map(fmtSeconds)).toEqual(['0.0012', '0.012', '0.123', '1.23', '12.3', '123']);
    expect(fmtSeconds(null)).toBe('-');
    expect(fmtRatio(3, 2)).toBe('1.50x');
    expect(fmtRatio(3, 0)).toBe('-');
  });

  it('judges basis/peer against the goal: no slower, or k times faster', () => {
    expect(rowVerdict(row(1, 1))).toBe('ok');
    expect(rowVerdict(row(1.01, 1))).toBe('~');
    expect(rowVerdict(row(1.06, 1))).toBe('MISSED');
    expect(rowVerdict(row(1, 3, 1 / 3))).toBe('ok');
    expect(rowVerdict(row(1, 2.9, 1 / 3))).toBe('~');
    expect(rowVerdict(row(1, 2.8, 1 / 3))).toBe('MISSED');
    expect(rowVerdict(row(null, 1))).toBe('-');
    expect(rowRatio(row(2, 4))).toBe(0.5);
  });

  it('aligns columns and prints each side with its tag and the verdict count', () => {
    const t = formatTable([['a', 'bb'], ['ccc', 'd']]).split('\n');
    expect(t).toEqual(['a    bb', '---  --', 'ccc   d']);
    const out = formatAcceptance([row(2, 1), { ...row(1, 4, 1 / 3), others: { wasm: { seconds: 3, tag: 'wasm 1t' } } }]);
    expect(out).toContain('numpy-system Zen 1t');
    expect(out).toContain('>= 3x faster');
    expect(out).toContain('wasm 1t: 3.00 (3.00x)');
    expect(out).toContain('acceptance: 1 ok, 0 within 5% of the goal (~), 1 missed, 0 without a peer (of 2 rows)');
  });
});
