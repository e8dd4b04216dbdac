import { describe, expect, it } from 'vitest';
import { barChart, heatStrip } from '../../src/web/svg.js';

function rects(svg: string): Array<Record<string, string>> {
  return [...svg.matchAll(/<rect ([^>]*?)\/?>/g)].map((m) =>
    Object.fromEntries([...(m[1] ?? '').matchAll(/(\w+)="([^"]*)"/g)].map((a) => [a[1], a[2]])),
  );
}

describe('server-drawn SVG', () => {
  it('a bar chart scales bars to the largest value, oldest on the left', () => {
    const svg = barChart(
      [
        { value: 0, label: 'a' },
        { value: 2, label: 'b' },
        { value: 4, label: 'c' },
      ],
      { width: 30, height: 22, label: 'trend' },
    ).value;
    expect(svg).toMatch(/^<svg [^>]*width="30" height="22" viewBox="0 0 30 22"/);
    expect(svg).toContain('xmlns="http://www.w3.org/2000/svg"');
    const bars = rects(svg).filter((r) => r.fill !== '#ccc');
    expect(bars.map((r) => Number(r.height))).toEqual([0, 10, 20]);
    expect(bars.map((r) => Number(r.x))).toEqual([0, 10, 20]);
    expect(bars.map((r) => Number(r.y))).toEqual([22, 12, 2]);
  });

  it('an all-zero chart draws no bar and does not divide by zero', () => {
    const svg = barChart([{ value: 0, label: 'x' }], { label: 'none' }).value;
    expect(svg).not.toContain('NaN');
    expect(
      rects(svg)
        .filter((r) => r.fill !== '#ccc')
        .map((r) => r.height),
    ).toEqual(['0']);
  });

  it('escapes labels: a crafted test name stays text inside <title>', () => {
    const svg = barChart([{ value: 1, label: '</title><script>alert(1)</script>' }], {
      label: '"><script>',
    }).value;
    expect(svg).not.toContain('<script>');
    expect(svg).toContain('&lt;/title&gt;&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(svg).toContain('aria-label="&quot;&gt;&lt;script&gt;"');
  });

  it('a heat strip draws a square, with its tooltip, where something happened', () => {
    const svg = heatStrip(
      [
        { colour: undefined, label: 'd1' },
        { colour: '#e69a1e', label: 'd2: flaky 1×' },
        { colour: '#d0342c', label: 'd3: failed 2×' },
      ],
      { size: 10, label: 'strip' },
    ).value;
    const cells = rects(svg);
    // The background spans the strip; only the second and third cells are drawn on it.
    expect(cells.map((c) => [c.class, c.x, c.width, c.fill])).toEqual([
      ['bg', '0', '33', '#eee'],
      ['hit', '11', '10', '#e69a1e'],
      ['hit', '22', '10', '#d0342c'],
    ]);
    expect(svg).not.toContain('d1');
    expect(svg).toContain('<title>d3: failed 2×</title>');
  });
});
