import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { COMMANDS } from '../../commands/index.js';
import { Dispatcher } from '../../src/chat/dispatcher.js';
import { normalize, parseRegrtest, sameTest } from '../../src/logs/regrtest.js';
import { lineText } from '../../src/messages/message.js';
import { openDb } from '../../src/store/db.js';
import { build, builder, controlWith, fleetWith, historyWith, silentLog } from '../support/fleet.js';

/**
 * One form for test names: without the `test.` package prefix (`test_concurrent_futures.test_deadlock`),
 * whichever form the log printed; commands take both.
 */
describe('test names', () => {
  const log = readFileSync(
    new URL('../fixtures/regrtest/excerpts/buildbot-silence-kill.log', import.meta.url),
    'utf8',
  );

  it('are stored without the "test." prefix the log printed', () => {
    expect(log).toContain('running (1): test.test_concurrent_futures.test_deadlock');
    const a = parseRegrtest(log);
    expect(a.running).toEqual(['test_concurrent_futures.test_deadlock']);
    expect(normalize('test.test_os')).toBe('test_os');
    expect(normalize('test_os')).toBe('test_os');
    expect(sameTest('test.test_asyncio.test_tasks', 'test_asyncio.test_tasks')).toBe(true);
    expect(sameTest('test_asyncio', 'test_asyncio.test_tasks')).toBe(false);
  });

  const setup = (async () => {
    const db = await openDb(':memory:');
    const red = build(1, 2, 2, 600);
    const fleet = await fleetWith(
      [builder(1, 'AMD64 Debian root 3.x', ['3.x'])],
      [build(1, 1, 0, 7200), red],
      'lab',
      db,
    );
    const { store, tests } = historyWith(db, fleet);
    await store.saveDone(
      { master: 'lab', buildid: red.buildid, builderid: 1, number: 2 },
      parseRegrtest(log),
      'http://127.0.0.1:8010/#/builders/1/builds/2/steps/1/logs/stdio',
      { name: 'AMD64 Debian root 3.x', branch: '3.x' },
      red.complete_at ?? 0,
    );
    return { db, fleet, tests };
  })();
  const ask = async (text: string): Promise<string[]> => {
    const { db, fleet, tests } = await setup;
    const dispatcher = new Dispatcher({
      commands: COMMANDS,
      fleet,
      tests,
      control: controlWith(db, fleet),
      grants: { operate: ['u'], force: [] },
      log: silentLog,
    });
    const m = await dispatcher.handle(
      {
        platform: 'test',
        room: 'r',
        sender: { identity: 'u', name: 'u' },
        text,
        isDirect: false,
        addressed: false,
      },
      10,
    );
    return m ? [...(m.title ? [lineText(m.title)] : []), ...m.lines.map(lineText)] : [];
  };

  it('!flaky finds the test by either form', async () => {
    for (const name of [
      'test.test_concurrent_futures.test_deadlock',
      'test_concurrent_futures.test_deadlock',
    ]) {
      const reply = await ask(`!flaky ${name}`);
      expect(reply[0]).toMatch(/^test_concurrent_futures\.test_deadlock: .*timed out 1×/);
    }
  });

  it('!known and !unknown take either form, and the issue shows on the stored form', async () => {
    expect(await ask('!known test.test_concurrent_futures.test_deadlock gh-4242')).toEqual([
      'test_concurrent_futures.test_deadlock is now known as gh-4242.',
    ]);
    const { tests } = await setup;
    expect(
      await tests.knownFor('test_concurrent_futures.test_deadlock', 'AMD64 Debian root 3.x'),
    ).toHaveLength(1);
    expect(
      await tests.knownFor('test.test_concurrent_futures.test_deadlock', 'AMD64 Debian root 3.x'),
    ).toHaveLength(1);
    expect(await ask('!flaky test_concurrent_futures.test_deadlock')).toContain('Known: gh-4242');
    expect(await ask('!unknown test_concurrent_futures.test_deadlock')).toEqual([
      'Removed 1 known issue from test_concurrent_futures.test_deadlock.',
    ]);
  });
});
