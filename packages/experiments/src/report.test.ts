import { describe, expect, it } from 'vitest';
import { BasisError } from '@basis/tensor';
import { barChart, configRows, figureCsv, heatmap, lineChart, renderReport, renderSvg, toCsv } from './report.js';

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
    // the header carries the axis titles with their units
    expect(figureCsv({ ...f, spec: lineChart(f.rows, { x: 'λ (0 = A, 1 = B)', y: 'test loss (cross-entropy)' }) })).toBe('"λ (0 = A, 1 = B)",test loss (cross-entropy),series\n0,1,s\n');
    const { html, svgs } = await renderReport({ title: 'R', sections: [{ heading: 'H', text: 'p1\n\np2', figures: [f], tables: [{ id: 't', title: 'Tab', columns: ['k', 'v'], rows: [['a', 0.123456], ['b', 1e-6]] }] }], config: { seed: 1 } });
    expect(svgs['f']).toContain('<svg');
    expect(html).toContain('<figure id="f"');
    expect(html).toContain('c &lt;b&gt;');
    // one format per column: 0.123456 and 1e-6 span more than 5 orders of magnitude, so both are scientific
    expect(html).toContain('1.235e-1');
    expect(html).toContain('1.000e-6');
    expect(html).not.toMatch(/<script|https?:\/\/(?!www\.w3\.org)/);
  });

  it('shows the configuration as a table of settings with the full JSON one click away', async () => {
    const config = { training: { epochs: 2, seeds: [0, 1], optimizer: { kind: 'adam', lr: 0.001 } }, model: { nodes: [{ op: 'dense' }, { op: 'relu' }] }, note: 'a < b' };
    expect(configRows(config)).toEqual([
      ['training.epochs', '2'],
      ['training.seeds', '0, 1'],
      ['training.optimizer.kind', 'adam'],
      ['training.optimizer.lr', '0.001'],
      ['model.nodes', '2 entries (in the full JSON)'],
      ['note', 'a < b'],
    ]);
    const { html } = await renderReport({ title: 'R', subtitle: '', sections: [], config });
    expect(html).toContain('<tr><td>training.optimizer.lr</td><td>0.001</td></tr>');
    expect(html).toContain('<td>a &lt; b</td>');
    expect(html).toMatch(/<details><summary>Full configuration \(JSON\)<\/summary><pre>\{\n {2}&quot;training&quot;/);
    // an empty subtitle is left out, never rendered as an empty or dangling line
    expect(html).not.toContain('class="sub"');
  });

  it('appends the figure style\'s notes (series that coincide, fixed colour scales) to the caption', async () => {
    const rows = [0, 1].flatMap((x) => [{ x, y: 1, series: 'a' }, { x, y: 1, series: 'b' }]);
    const { html } = await renderReport({ title: 'R', sections: [{ heading: 'H', figures: [{ id: 'f', title: 'T', caption: 'Two paths.', spec: lineChart(rows, { x: 'x', y: 'y' }), rows }] }], config: {} });
    expect(html).toMatch(/<figcaption><b>T\.<\/b> Two paths\. a and b coincide \(identical values, lines drawn on top of each other\)\.<\/figcaption>/);
  });
});
