/**
 * The digest's chart of red builders per day as a small PNG bar chart: one red bar per day, oldest
 * on the left, heights in proportion to the largest day, on a grey baseline. No text: the alt text
 * carries the numbers. The same values always give the same bytes.
 */
import type { MessageImage } from '../messages/message.js';
import { encodePng, type Raster } from '../messages/png.js';

export const CHART = {
  width: 400,
  height: 120,
  /** Empty pixels around the plot. */
  margin: 8,
  /** Rows of the baseline, at the bottom of the plot. */
  baseline: 2,
  background: [255, 255, 255, 255],
  axis: [128, 128, 128, 255],
  bar: [218, 54, 51, 255],
} as const;

type Rgba = readonly [number, number, number, number];

/** Where each day's bar is: columns [x0, x1) and rows [top, base) (empty when the day had none). */
export interface BarLayout {
  x0: number;
  x1: number;
  top: number;
  /** The first row of the baseline; bars stand on it. */
  base: number;
}

export function barLayout(values: readonly number[]): BarLayout[] {
  const { width, height, margin, baseline } = CHART;
  const plotWidth = width - 2 * margin;
  const base = height - margin - baseline;
  const tallest = base - margin;
  const slot = plotWidth / Math.max(1, values.length);
  const gap = slot >= 4 ? Math.max(1, Math.round(slot / 5)) : 0;
  const max = Math.max(0, ...values);
  return values.map((v, i) => {
    const x0 = margin + Math.round(i * slot + gap / 2);
    const x1 = Math.max(x0 + 1, margin + Math.round((i + 1) * slot - gap / 2));
    // A day with any red builder shows at least 2 pixels, so it never looks like none.
    const h = v <= 0 || max === 0 ? 0 : Math.max(2, Math.round((v / max) * tallest));
    return { x0, x1, top: base - h, base };
  });
}

export function chartRaster(values: readonly number[]): Raster {
  const { width, height, margin, baseline } = CHART;
  const rgba = new Uint8Array(width * height * 4);
  const fill = (x0: number, x1: number, y0: number, y1: number, colour: Rgba) => {
    for (let y = y0; y < y1; y++) for (let x = x0; x < x1; x++) rgba.set(colour, (y * width + x) * 4);
  };
  fill(0, width, 0, height, CHART.background);
  const bars = barLayout(values);
  const base = height - margin - baseline;
  fill(margin, width - margin, base, base + baseline, CHART.axis);
  for (const bar of bars) fill(bar.x0, bar.x1, bar.top, bar.base, CHART.bar);
  return { width, height, rgba };
}

/** The chart as a message image, with the numbers as its alt text. */
export function redBuildersChart(values: readonly number[], days: number): MessageImage {
  const png = encodePng(chartRaster(values));
  return {
    name: 'red-builders.png',
    mime: 'image/png',
    data: png.toString('base64'),
    alt: `Red builders per day over the last ${days} days, oldest first: ${values.join(', ')}`,
    width: CHART.width,
    height: CHART.height,
  };
}
