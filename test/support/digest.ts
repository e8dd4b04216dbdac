/** A week's digest with a red builder on most days, rendered: what the chart-image tests send. */
import type { Digest } from '../../src/digest/digest.js';
import { renderDigest } from '../../src/digest/render.js';
import type { Message } from '../../src/messages/message.js';

const digest: Digest = {
  days: 7,
  from: 0,
  until: 7 * 86_400,
  totals: { builders: 4, builds: 40, red: 6 },
  rates: [],
  streaks: [],
  flaky: [],
  newSince: 0,
  newFailures: [],
  redPerDay: [0, 1, 3, 2, 0, 0, 1],
  newlyRed: [],
};

/** The digest as an announcement (scheduled) or a reply (!report). */
export function digestMessage(kind: Message['kind']): Message {
  return { ...renderDigest(digest, { buildUrl: () => 'http://ci/b', showMaster: false }), kind };
}
