import { escapeHtml, type Html, markup, raw } from './html.js';

/**
 * Charts drawn on the server as inline SVG: no script, no font, no request. Every `<title>` is
 * escaped text (the browser shows it as a tooltip).
 */

export interface Bar {
  value: number;
  /** The tooltip. */
  label: string;
}

/** A small bar chart, oldest bar on the left; bars scale to the largest value. */
export function barChart(
  bars: readonly Bar[],
  opts: { width?: number; height?: number; colour?: string; label: string },
): Html {
  const width = opts.width ?? 120;
  const height = opts.height ?? 24;
  const colour = opts.colour ?? '#e69a1e';
  const max = Math.max(0, ...bars.map((b) => b.value));
  const step = bars.length === 0 ? width : width / bars.length;
  // Built as one string (a flaky page draws about a thousand bars); the label is escaped.
  let rects = `<rect class="base" x="0" y="${height - 1}" width="${width}" height="1" fill="#ccc"/>`;
  bars.forEach((b, i) => {
    const h = max === 0 || b.value <= 0 ? 0 : Math.max(2, Math.round((b.value / max) * (height - 2)));
    const x = (i * step).toFixed(1);
    const w = Math.max(1, step - 1).toFixed(1);
    rects += `<rect x="${x}" y="${height - h}" width="${w}" height="${h}" fill="${escapeHtml(colour)}"><title>${escapeHtml(b.label)}</title></rect>`;
  });
  return markup`<svg class="chart" role="img" aria-label="${opts.label}" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" xmlns="http://www.w3.org/2000/svg"><title>${opts.label}</title>${raw(rects)}</svg>`;
}

export interface HeatCell {
  /** Fill colour; undefined for an empty cell. */
  colour: string | undefined;
  label: string;
}

/**
 * A strip of square cells, oldest on the left: a light background, and a coloured square (with
 * its tooltip) for each cell where something happened. Built as one string: pages draw thousands.
 */
export function heatStrip(cells: readonly HeatCell[], opts: { size?: number; label: string }): Html {
  const size = opts.size ?? 10;
  const width = cells.length * (size + 1);
  let rects = `<rect class="bg" x="0" y="0" width="${width}" height="${size}" fill="#eee"/>`;
  cells.forEach((c, i) => {
    if (!c.colour) return;
    rects += `<rect class="hit" x="${i * (size + 1)}" y="0" width="${size}" height="${size}" fill="${escapeHtml(c.colour)}"><title>${escapeHtml(c.label)}</title></rect>`;
  });
  return markup`<svg class="strip" role="img" aria-label="${opts.label}" width="${width}" height="${size}" viewBox="0 0 ${width} ${size}" xmlns="http://www.w3.org/2000/svg">${raw(rects)}</svg>`;
}
