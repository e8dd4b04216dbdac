import { describe, expect, it } from 'vitest';
import { type OutboxAbout, outboxKey } from '../../src/store/outbox.js';

/** The once-only key of each kind of outbox row: what it is about, written out by hand. */
describe('outboxKey', () => {
  it.each<[string, OutboxAbout, ReturnType<typeof outboxKey>]>([
    [
      'a build announcement',
      { kind: 'announcement', master: 'lab', buildid: 70, event: 'failure' },
      { kind: 'announcement', subject: 'build:lab:70', event: 'failure', master: 'lab', buildid: 70 },
    ],
    [
      "its details: the head's event, told apart by kind",
      { kind: 'details', master: 'lab', buildid: 70, event: 'failure' },
      { kind: 'details', subject: 'build:lab:70', event: 'failure', master: 'lab', buildid: 70 },
    ],
    [
      'a forced build finished',
      { kind: 'follow-up', master: 'lab', buildid: 71, event: 'force-finished' },
      { kind: 'follow-up', subject: 'build:lab:71', event: 'force-finished', master: 'lab', buildid: 71 },
    ],
    [
      'a digest: the minute it was due, about no build',
      { kind: 'digest', minute: 1_700_000_040 },
      { kind: 'digest', subject: 'digest:1700000040', event: 'digest', master: null, buildid: null },
    ],
    [
      "a mute's summary: the mute",
      { kind: 'mute-summary', muteId: 3 },
      { kind: 'mute-summary', subject: 'mute:3', event: 'mute-summary', master: null, buildid: null },
    ],
    [
      'a worker gone: its master, id and the second it left; no build',
      { kind: 'worker', master: 'lab', workerid: 12, event: 'worker-missing', since: 1_700_000_000_999 },
      {
        kind: 'worker',
        subject: 'worker:lab:12:1700000000',
        event: 'worker-missing',
        master: 'lab',
        buildid: null,
      },
    ],
  ])('%s', (_name, about, key) => {
    expect(outboxKey(about)).toEqual(key);
  });
});
