/**
 * The PNG encoder, checked by reading its output back as a PNG decoder would: signature, chunk
 * lengths and CRCs, IHDR, and the inflated pixel rows (the CRC against zlib's own); and the
 * digest's bar chart of red builders per day, read back pixel by pixel.
 */
import { crc32 as zlibCrc32, inflateSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { barLayout, CHART, redBuildersChart } from '../../src/digest/chart-png.js';
import { crc32, encodePng } from '../../src/messages/png.js';

interface Chunk {
  type: string;
  data: Buffer;
  crcOk: boolean;
}

/** The chunks of a PNG; throws when the signature or a chunk's length is wrong. */
function readChunks(png: Buffer): Chunk[] {
  expect([...png.subarray(0, 8)]).toEqual([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  const chunks: Chunk[] = [];
  let at = 8;
  while (at < png.length) {
    const length = png.readUInt32BE(at);
    const type = png.subarray(at + 4, at + 8).toString('latin1');
    const data = png.subarray(at + 8, at + 8 + length);
    if (data.length !== length) throw new Error(`chunk ${type} cut short`);
    const crc = png.readUInt32BE(at + 8 + length);
    chunks.push({ type, data, crcOk: crc === crc32(png.subarray(at + 4, at + 8 + length)) });
    at += 12 + length;
  }
  return chunks;
}

/** The image's pixels as RGBA rows (filter type 0 only, which the encoder uses). */
function decodeRgba(png: Buffer): { width: number; height: number; pixel(x: number, y: number): number[] } {
  const chunks = readChunks(png);
  const ihdr = chunks.find((c) => c.type === 'IHDR')?.data;
  if (!ihdr) throw new Error('no IHDR');
  const width = ihdr.readUInt32BE(0);
  const height = ihdr.readUInt32BE(4);
  const raw = inflateSync(Buffer.concat(chunks.filter((c) => c.type === 'IDAT').map((c) => c.data)));
  expect(raw.length).toBe((width * 4 + 1) * height);
  for (let y = 0; y < height; y++) expect(raw[y * (width * 4 + 1)]).toBe(0);
  return {
    width,
    height,
    pixel: (x, y) => {
      const at = y * (width * 4 + 1) + 1 + x * 4;
      return [...raw.subarray(at, at + 4)];
    },
  };
}

describe('crc32', () => {
  it('is the CRC-32 PNG uses (the check value, and zlib agrees)', () => {
    expect(crc32(Buffer.from('123456789'))).toBe(0xcbf43926);
    const bytes = Buffer.from('IEND and some other bytes \u00ff');
    expect(crc32(bytes)).toBe(zlibCrc32(bytes));
  });
});

describe('encodePng', () => {
  it('writes IHDR, IDAT and IEND with correct CRCs, and the pixels come back', () => {
    const width = 3;
    const height = 2;
    const rgba = new Uint8Array(width * height * 4);
    // Row 0: red, green, blue; row 1: white, transparent, grey.
    const colours = [
      [255, 0, 0, 255],
      [0, 255, 0, 255],
      [0, 0, 255, 255],
      [255, 255, 255, 255],
      [0, 0, 0, 0],
      [128, 128, 128, 255],
    ];
    colours.forEach((c, i) => rgba.set(c, i * 4));
    const png = encodePng({ width, height, rgba });
    const chunks = readChunks(png);
    expect(chunks.map((c) => c.type)).toEqual(['IHDR', 'IDAT', 'IEND']);
    expect(chunks.every((c) => c.crcOk)).toBe(true);
    const ihdr = chunks[0]?.data as Buffer;
    expect([ihdr.readUInt32BE(0), ihdr.readUInt32BE(4), ...ihdr.subarray(8)]).toEqual([3, 2, 8, 6, 0, 0, 0]);
    expect(chunks[2]?.data.length).toBe(0);
    const image = decodeRgba(png);
    for (let y = 0; y < height; y++)
      for (let x = 0; x < width; x++) expect(image.pixel(x, y)).toEqual(colours[y * width + x]);
  });

  it('is deterministic, and a corrupted byte shows as a bad CRC', () => {
    const rgba = new Uint8Array(16 * 16 * 4).fill(200);
    const a = encodePng({ width: 16, height: 16, rgba });
    expect(encodePng({ width: 16, height: 16, rgba }).equals(a)).toBe(true);
    const broken = Buffer.from(a);
    broken[20] = (broken[20] as number) ^ 0xff; // inside IHDR's data
    expect(readChunks(broken).find((c) => c.type === 'IHDR')?.crcOk).toBe(false);
  });

  it('refuses pixels that do not match the size', () => {
    expect(() => encodePng({ width: 2, height: 2, rgba: new Uint8Array(15) })).toThrow(/16|RGBA/);
    expect(() => encodePng({ width: 0, height: 2, rgba: new Uint8Array(0) })).toThrow(/positive/);
  });
});

const RED = [...CHART.bar];
const WHITE = [...CHART.background];
const GREY = [...CHART.axis];

function decode(values: number[]) {
  const image = redBuildersChart(values, values.length);
  return { image, png: decodeRgba(Buffer.from(image.data, 'base64')) };
}

describe('the red builders chart', () => {
  it('draws one red bar per day in proportion to the largest, on a grey baseline', () => {
    const values = [0, 3, 6, 1, 0, 2, 0];
    const { image, png } = decode(values);
    expect([png.width, png.height]).toEqual([CHART.width, CHART.height]);
    expect([image.width, image.height]).toEqual([CHART.width, CHART.height]);
    expect(image).toMatchObject({ name: 'red-builders.png', mime: 'image/png' });
    expect(image.alt).toContain('0, 3, 6, 1, 0, 2, 0');
    const bars = barLayout(values);
    const base = bars[0]?.base as number;
    bars.forEach((bar, day) => {
      const x = Math.floor((bar.x0 + bar.x1) / 2);
      // Just above the baseline: red on a day with red builders, background otherwise.
      expect(png.pixel(x, base - 1)).toEqual(values[day] ? RED : WHITE);
      expect(png.pixel(x, base)).toEqual(GREY);
      // The top of the bar is where the layout says, and above it is background.
      if (values[day]) {
        expect(png.pixel(x, bar.top)).toEqual(RED);
        expect(png.pixel(x, bar.top - 1)).toEqual(WHITE);
      }
    });
    // The tallest day reaches the top margin; half of it stands half as high.
    const height = (day: number) => base - (bars[day]?.top as number);
    expect(bars[2]?.top).toBe(CHART.margin);
    expect(height(1)).toBe(Math.round(height(2) / 2));
    // Between two bars, and in the margins, background.
    const gapX = Math.floor(((bars[1]?.x1 as number) + (bars[2]?.x0 as number)) / 2);
    expect((bars[1]?.x1 as number) < (bars[2]?.x0 as number)).toBe(true);
    expect(png.pixel(gapX, base - 1)).toEqual(WHITE);
    expect(png.pixel(0, 0)).toEqual(WHITE);
    expect(png.pixel(CHART.width - 1, base)).toEqual(WHITE);
  });

  it('is only the baseline when no builder was red, and a day with 1 of 100 still shows', () => {
    const { png } = decode(Array(30).fill(0) as number[]);
    let red = 0;
    for (let y = 0; y < png.height; y++)
      for (let x = 0; x < png.width; x++) if (png.pixel(x, y).join() === RED.join()) red++;
    expect(red).toBe(0);
    expect(png.pixel(CHART.width / 2, CHART.height - CHART.margin - 1)).toEqual(GREY);

    const bars = barLayout([100, 1, 0]);
    expect((bars[1]?.base as number) - (bars[1]?.top as number)).toBeGreaterThanOrEqual(2);
    expect(bars[2]?.top).toBe(bars[2]?.base);
  });

  it('gives the same bytes for the same days, and is small', () => {
    const a = redBuildersChart([1, 2, 3, 4, 5, 6, 7], 7);
    expect(redBuildersChart([1, 2, 3, 4, 5, 6, 7], 7).data).toBe(a.data);
    expect(redBuildersChart([1, 2, 3, 4, 5, 6, 8], 7).data).not.toBe(a.data);
    expect(Buffer.from(a.data, 'base64').length).toBeLessThan(4000);
    expect(readChunks(Buffer.from(a.data, 'base64')).every((c) => c.crcOk)).toBe(true);
  });
});
