// @basis/experiments: figures as Vega-Lite specs rendered to SVG, and self-contained HTML reports.
import { lineChart, renderReport, renderSvg, type Figure } from '@basis/experiments';

const rows = [0, 0.25, 0.5, 0.75, 1].flatMap((x) => [
  { x, y: 0.2 + 0.8 * 4 * x * (1 - x), series: 'naive' },
  { x, y: 0.2 + 0.05 * 4 * x * (1 - x), series: 'matched' },
]);
const figure: Figure = { id: 'barrier', title: 'Loss along the path', caption: 'λ = 0 is model A, λ = 1 model B.', spec: lineChart(rows, { x: 'λ', y: 'loss' }), rows };
const svg = await renderSvg(figure.spec);
console.log('svg:', svg.startsWith('<svg'));
const { html } = await renderReport({ title: 'A tiny report', sections: [{ heading: 'Interpolation', text: 'Two curves.', figures: [figure] }], config: { points: 5 } });
console.log('self-contained html:', html.includes('<svg') && !html.includes('<script src='));
