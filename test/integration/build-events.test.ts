/**
 * The master's build events as bbwatch's streams read them, from the real lab master over each
 * transport: a forced build is seen starting (its `new` event, naming its build request: how the
 * requester hears "started") and then finishing.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StreamHandle, StreamOptions } from '../../src/buildbot/stream.js';
import { openSseStream } from '../../src/buildbot/stream-sse.js';
import { openWebSocketStream } from '../../src/buildbot/stream-ws.js';
import type { BuildbotBuild } from '../../src/buildbot/types.js';
import { silentLog } from '../support/fleet.js';
import { type Lab, startLab } from '../support/lab.js';

const BUILDER = 'AMD64 Debian root 3.x';
let lab: Lab;

beforeAll(async () => {
  lab = await startLab({ branches: ['3.x'], platforms: ['AMD64 Debian root:stable,tier-1'] });
});
afterAll(async () => {
  await lab?.close();
});

describe.each([
  ['WebSocket', openWebSocketStream],
  ['SSE', openSseStream],
] as const)('build events over %s', (_name, open: (opts: StreamOptions) => Promise<StreamHandle>) => {
  it('tell a forced build starting, with its build request, and then finishing', async () => {
    const seen: Array<{ event: 'started' | 'finished'; build: BuildbotBuild }> = [];
    let heard: () => void = () => undefined;
    const note = (event: 'started' | 'finished', build: BuildbotBuild) => {
      seen.push({ event, build });
      heard();
    };
    const stream = await open({
      baseUrl: lab.url,
      connectTimeoutMs: 10_000,
      onBuild: (build) => note('finished', build),
      onBuildStarted: (build) => note('started', build),
      log: silentLog,
    });
    try {
      const forced = await lab.force([BUILDER]);
      const brid = forced.brids[BUILDER];
      const done = await lab.waitForBuild(BUILDER, forced.builds[BUILDER]?.number ?? -1);
      // The finished event follows the master's own record within moments.
      await new Promise<void>((resolve) => {
        heard = () => {
          if (seen.some((s) => s.event === 'finished' && s.build.buildid === done.buildid)) resolve();
        };
        heard();
      });
      const mine = seen.filter((s) => s.build.buildid === done.buildid);
      expect(mine.map((s) => s.event)).toEqual(['started', 'finished']);
      expect(mine[0]?.build).toMatchObject({ buildrequestid: brid, number: done.number, complete: false });
    } finally {
      stream.close();
    }
  });
});
