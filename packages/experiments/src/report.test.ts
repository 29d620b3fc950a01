import { describe, expect, it } from 'vitest';
import { BasisError } from '@basis/tensor';
import { barChart, figureCsv, heatmap, lineChart, renderReport, renderSvg, toCsv } from './report.js';

describe('reports', () => {
  it('renders Vega-Lite line charts and heatmaps to SVG with marks', async () => {
    const line = await renderSvg(lineChart([{ x: 0, y: 1, series: 'a' }, { x: 1, y: 2, series: 'a' }], { x: 'λ', y: 'loss' }));
    expect(line.startsWith('<svg')).toBe(true);
    expect(line).toContain('class="mark-line');
    const heat = await renderSvg(heatmap([{ a: 'l1', b: 'l1', value: 1 }, { a: 'l1', b: 'l2', value: 0.5 }], { a: 'A', b: 'B' }));
    expect(heat).toContain('class="mark-rect');
    const bar = await renderSvg(barChart([{ group: 'naive', series: 'loss', value: 0.5 }], { x: 'method', y: 'barrier' }));
    expect(bar).toContain('class="mark-rect');
    await expect(renderSvg({ mark: 'nope' } as never)).rejects.toThrow(BasisError);
  });

  it('CSV quoting and a self-contained HTML page', async () => {
    expect(toCsv(['a', 'b'], [['x,y', 1], ['q"t', null]])).toBe('a,b\n"x,y",1\n"q""t",\n');
    const f = { id: 'f', title: 'T', caption: 'c <b>', spec: lineChart([{ x: 0, y: 1, series: 's' }], { x: 'x', y: 'y' }), rows: [{ x: 0, y: 1, series: 's' }] };
    expect(figureCsv(f)).toBe('x,y,series\n0,1,s\n');
    const { html, svgs } = await renderReport({ title: 'R', sections: [{ heading: 'H', text: 'p1\n\np2', figures: [f], tables: [{ id: 't', title: 'Tab', columns: ['k', 'v'], rows: [['a', 0.123456], ['b', 1e-6]] }] }], config: { seed: 1 } });
    expect(svgs['f']).toContain('<svg');
    expect(html).toContain('<figure id="f"');
    expect(html).toContain('c &lt;b&gt;');
    expect(html).toContain('0.1235');
    expect(html).toContain('1.00e-6');
    expect(html).not.toMatch(/<script|https?:\/\/(?!www\.w3\.org)/);
  });
});
