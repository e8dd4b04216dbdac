/**
 * The digest message carries its chart of red builders per day as a PNG image (the pixels are
 * checked in png.test.ts), as base64 so that it survives the outbox's JSON.
 */
import { describe, expect, it } from 'vitest';
import { renderConsole } from '../../adapters/console/render.js';
import { renderIrc } from '../../adapters/irc/render.js';
import { CHART, redBuildersChart } from '../../src/digest/chart-png.js';
import type { Digest } from '../../src/digest/digest.js';
import { renderDigest } from '../../src/digest/render.js';
import type { Message } from '../../src/messages/message.js';

function digest(redPerDay: number[]): Digest {
  return {
    days: redPerDay.length,
    from: 0,
    until: redPerDay.length * 86_400,
    totals: { builders: 3, builds: 10, red: 2 },
    rates: [],
    streaks: [],
    flaky: [],
    newSince: 0,
    newFailures: [],
    redPerDay,
    newlyRed: [],
  };
}

const render = (d: Digest) => renderDigest(d, { buildUrl: () => 'http://ci/b', showMaster: false });

describe('the digest message', () => {
  it('carries the chart as an image for the periods that have the text chart, and not otherwise', () => {
    const message = render(digest([0, 1, 2, 1, 0, 0, 3]));
    expect(message.image?.alt).toBe(
      'Red builders per day over the last 7 days, oldest first: 0, 1, 2, 1, 0, 0, 3',
    );
    expect(message.image?.data).toBe(redBuildersChart([0, 1, 2, 1, 0, 0, 3], 7).data);
    expect(render(digest([4])).image).toBeUndefined();
    expect(render(digest(Array(63).fill(1) as number[])).image).toBeUndefined();
    expect(render(digest(Array(62).fill(1) as number[])).image).toBeDefined();
  });

  it('survives the outbox: JSON and back gives the same message and the same PNG bytes', () => {
    const message = render(digest([0, 1, 2, 1, 0, 0, 3]));
    const again = JSON.parse(JSON.stringify({ message })) as { message: Message };
    expect(again.message).toEqual(message);
    const bytes = Buffer.from(again.message.image?.data ?? '', 'base64');
    expect(bytes.equals(Buffer.from(message.image?.data ?? '', 'base64'))).toBe(true);
    expect(bytes.subarray(1, 4).toString('latin1')).toBe('PNG');
    expect(bytes.readUInt32BE(16)).toBe(CHART.width); // IHDR's width
  });

  it('changes nothing on IRC and the console: the text chart is already there', () => {
    const message = render(digest([0, 1, 2, 1, 0, 0, 3]));
    const { image: _image, ...textOnly } = message;
    expect(message.image).toBeDefined();
    expect(renderConsole(message, { colour: false })).toEqual(renderConsole(textOnly, { colour: false }));
    const irc = { colours: true, maxBytes: 400 };
    expect(renderIrc(message, irc)).toEqual(renderIrc(textOnly, irc));
    expect(renderIrc(message, irc).join('\n')).not.toContain('oldest first: 0, 1');
  });
});
