/** Escapes text for HTML/SVG. */
function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

// Viridis control points (matplotlib), interpolated linearly.
const VIRIDIS = ['#440154', '#482878', '#3e4989', '#31688e', '#26828e', '#1f9e89', '#35b779', '#6ece58', '#b5de2b', '#fde725'];

function hex(c: string): [number, number, number] {
  return [parseInt(c.slice(1, 3), 16), parseInt(c.slice(3, 5), 16), parseInt(c.slice(5, 7), 16)];
}

/** Colour of t in [0, 1] on the viridis scale. */
export function viridis(t: number): string {
  const x = Math.min(1, Math.max(0, Number.isFinite(t) ? t : 0)) * (VIRIDIS.length - 1);
  const i = Math.min(VIRIDIS.length - 2, Math.floor(x));
  const f = x - i;
  const a = hex(VIRIDIS[i] as string);
  const b = hex(VIRIDIS[i + 1] as string);
  const c = a.map((v, k) => Math.round(v + (b[k] as number - v) * f));
  return `rgb(${c.join(',')})`;
}

/**
 * A self-contained HTML page with an SVG heatmap of `values[i][j]` (rows `rowLabels`, columns
 * `colLabels`), each cell showing its value, with a colour bar. No scripts, no external files.
 */
export function heatmapHtml(opts: {
  title: string;
  subtitle: string;
  rowLabels: string[];
  colLabels: string[];
  values: number[][];
  rowAxis: string;
  colAxis: string;
}): string {
  const { rowLabels, colLabels, values } = opts;
  const flat = values.flat();
  let lo = Math.min(...flat);
  let hi = Math.max(...flat);
  if (!(hi > lo)) {
    lo -= 0.5;
    hi += 0.5;
  }
  const cell = Math.max(28, Math.min(64, Math.floor(560 / Math.max(rowLabels.length, colLabels.length))));
  const labelW = Math.min(220, 12 + 7 * Math.max(...rowLabels.map((l) => l.length)));
  const labelH = Math.min(160, 12 + 7 * Math.max(...colLabels.map((l) => l.length)));
  const x0 = labelW + 30;
  const y0 = labelH + 10;
  const width = x0 + cell * colLabels.length + 120;
  const height = y0 + cell * rowLabels.length + 50;
  const parts: string[] = [];
  values.forEach((row, i) =>
    row.forEach((v, j) => {
      const t = (v - lo) / (hi - lo);
      const x = x0 + j * cell;
      const y = y0 + i * cell;
      parts.push(
        `<rect x="${x}" y="${y}" width="${cell}" height="${cell}" fill="${viridis(t)}"><title>${esc(rowLabels[i] as string)} × ${esc(colLabels[j] as string)}: ${v}</title></rect>`,
        `<text x="${x + cell / 2}" y="${y + cell / 2 + 4}" text-anchor="middle" font-size="${Math.max(8, Math.floor(cell / 4.2))}" fill="${t > 0.6 ? '#111' : '#fff'}">${esc(v.toPrecision(3))}</text>`,
      );
    }),
  );
  rowLabels.forEach((l, i) => parts.push(`<text x="${x0 - 6}" y="${y0 + i * cell + cell / 2 + 4}" text-anchor="end" font-size="12">${esc(l)}</text>`));
  colLabels.forEach((l, j) => {
    const x = x0 + j * cell + cell / 2;
    parts.push(`<text transform="translate(${x},${y0 - 6}) rotate(-60)" font-size="12">${esc(l)}</text>`);
  });
  parts.push(`<text x="${x0 + (cell * colLabels.length) / 2}" y="${height - 12}" text-anchor="middle" font-size="13" font-weight="bold">${esc(opts.colAxis)}</text>`);
  parts.push(`<text transform="translate(14,${y0 + (cell * rowLabels.length) / 2}) rotate(-90)" text-anchor="middle" font-size="13" font-weight="bold">${esc(opts.rowAxis)}</text>`);
  // colour bar
  const bx = x0 + cell * colLabels.length + 24;
  const bh = cell * rowLabels.length;
  for (let k = 0; k < 50; k++) parts.push(`<rect x="${bx}" y="${y0 + bh - ((k + 1) * bh) / 50}" width="16" height="${bh / 50 + 0.5}" fill="${viridis(k / 49)}"/>`);
  parts.push(`<text x="${bx + 22}" y="${y0 + 10}" font-size="11">${esc(hi.toPrecision(4))}</text>`);
  parts.push(`<text x="${bx + 22}" y="${y0 + bh}" font-size="11">${esc(lo.toPrecision(4))}</text>`);
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${esc(opts.title)}</title>
<style>body{font-family:system-ui,sans-serif;margin:24px;color:#222}h1{font-size:20px;margin:0 0 4px}p{margin:0 0 16px;color:#555}</style>
</head><body><h1>${esc(opts.title)}</h1><p>${esc(opts.subtitle)}</p>
<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="system-ui,sans-serif">${parts.join('')}</svg>
</body></html>
`;
}
