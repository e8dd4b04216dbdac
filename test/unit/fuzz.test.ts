/**
 * Property-based tests (fast-check): whatever a chat user types, whatever a config file or a build
 * log holds, nothing throws past the code meant to catch it, and parsers invent nothing.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { COMMANDS } from '../../commands/index.js';
import { renderConsole } from '../../adapters/console/render.js';
import { Dispatcher } from '../../src/chat/dispatcher.js';
import { tokenize } from '../../src/chat/tokenize.js';
import { parseConfig } from '../../src/config/load.js';
import { ConfigError, UsageError } from '../../src/errors.js';
import { parseRegrtest } from '../../src/logs/regrtest.js';
import { lineText, type Message } from '../../src/messages/message.js';
import { MuteService } from '../../src/notify/mute.js';
import { Subscriptions } from '../../src/notify/subscriptions.js';
import { openDb } from '../../src/store/db.js';
import { SubscriptionStore } from '../../src/store/subscriptions.js';
import { build, builder, controlWith, fleetWith, historyWith, silentLog } from '../support/fleet.js';

const db = await openDb(':memory:');
const fleet = await fleetWith(
  [
    builder(1, 'AMD64 Debian root 3.x', ['3.x', 'stable', 'tier-1']),
    builder(2, 'PPC64LE RHEL8 3.14', ['3.14', 'unstable']),
  ],
  [build(1, 1, 0, 600), build(1, 2, 2, 300), build(2, 1, 1, 100)],
  'lab',
  db,
);
/** Commands whose views need a live master (!workers, !report) have their own tests. */
const FUZZED = COMMANDS.filter((c) => !['workers', 'report'].includes(c.name));
const store = new SubscriptionStore(db);
const dispatcher = new Dispatcher({
  commands: FUZZED,
  fleet,
  tests: historyWith(db, fleet).tests,
  control: controlWith(db, fleet),
  subscriptions: await Subscriptions.load([{ to: 'console', events: ['failure'] }], store),
  mutes: await MuteService.load({
    store,
    defaultMs: 3_600_000,
    maxMs: 86_400_000,
    log: silentLog,
    send: async () => undefined,
  }),
  grants: { operate: ['console'], force: ['console'] },
  log: silentLog,
});

/** Words people type at the bot, and some they should not. */
const word = fc.oneof(
  fc.constantFrom(...FUZZED.flatMap((c) => [c.name, ...(c.aliases ?? [])])),
  fc.constantFrom(
    '3.x',
    '3.14',
    'all',
    'stable',
    'tier-1',
    'AMD64',
    'Debian',
    'root',
    'test_ssl',
    '--yes',
    '--reason',
    '#2',
    '0',
    '-1',
    '99999999999999999999',
  ),
  fc.constantFrom(
    '"',
    "'",
    '\\',
    '..',
    '/etc/passwd',
    'https://evil.example/x',
    '@everyone',
    '<script>',
    '\r\n',
    '\u0000',
    '\u202e',
  ),
  fc.string({ maxLength: 12 }),
  fc.string({ unit: 'grapheme', maxLength: 6 }),
);
const commandLine = fc.array(word, { maxLength: 8 }).map((ws) => `!${ws.join(' ')}`);

describe('fuzz', () => {
  it('the tokenizer either splits or says why', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', maxLength: 200 }), (text) => {
        try {
          const words = tokenize(text);
          for (const w of words) expect(typeof w).toBe('string');
        } catch (err) {
          expect(err).toBeInstanceOf(UsageError);
        }
      }),
      { numRuns: 3000 },
    );
  });

  it('no command line makes a command fail unexpectedly, and every reply renders clean', async () => {
    await fc.assert(
      fc.asyncProperty(commandLine, async (text) => {
        const answer = await dispatcher.handle(
          {
            platform: 'console',
            room: 'console',
            sender: { identity: 'console', name: 'console' },
            text,
            isDirect: true,
            addressed: true,
          },
          10,
        );
        if (!answer) return;
        const all = textOf(answer);
        // The generic apology means an exception escaped a command: a bug.
        expect(all).not.toMatch(/^Sorry, !\w+ failed/m);
        for (const line of renderConsole(answer, { colour: false }))
          expect(line).not.toMatch(/[\u0000-\u001f\u007f]/);
      }),
      { numRuns: 1500 },
    );
  });

  it('the config loader answers with a config or a ConfigError, nothing else', () => {
    const yamlish = fc.oneof(
      fc.string({ unit: 'grapheme', maxLength: 200 }),
      fc
        .array(
          fc.constantFrom(
            'masters:',
            '  - name: lab',
            '    url: http://127.0.0.1:1/',
            '    stream: ws',
            'notify:',
            '  - to: console',
            '    events: [failure]',
            'chat: {console: true}',
            'storage: x',
            '${NOPE}',
            '- x',
            ': :',
            '  bad: [',
            'permissions: {force: [console]}',
            '    timeout: 3 parsecs',
          ),
          { maxLength: 12 },
        )
        .map((lines) => lines.join('\n')),
    );
    fc.assert(
      fc.property(yamlish, (text) => {
        try {
          parseConfig(text, 'fuzz.yaml', {});
        } catch (err) {
          expect(err).toBeInstanceOf(ConfigError);
          for (const issue of (err as ConfigError).issues) expect(issue.length).toBeGreaterThan(0);
        }
      }),
      { numRuns: 2000 },
    );
  });

  it('the regrtest parser never reports a test name that is not in the log', () => {
    const fragment = fc.oneof(
      fc.constantFrom(
        'Using random seed: 42',
        '0:00:01 load avg: 1.00 [1/3] test_alpha passed',
        '0:00:02 load avg: 1.00 [2/3/1] test_beta failed (1 error)',
        '[3/3/2] test_gamma crashed (Exit code -11)',
        '== Tests result: FAILURE then SUCCESS ==',
        '2 tests failed:',
        '    test_beta test_delta',
        '1 re-run test:',
        'Re-running test_beta in verbose mode (matching: test_x)',
        'FAIL: test_x (test.test_beta.T.test_x)',
        'Traceback (most recent call last):',
        'test test_epsilon failed -- Traceback (most recent call last):',
        'test_zeta leaked [1, 1, 1] references, sum=3',
        'Timeout (0:20:00)!',
        'Kill <WorkerThread #1 running test=test_eta pid=1 time=20 min> process group',
        'Result: FAILURE',
        'Tests result: SUCCESS',
        'OK',
        '',
      ),
      fc.string({ maxLength: 40 }),
    );
    fc.assert(
      fc.property(fc.array(fragment, { maxLength: 60 }), (lines) => {
        const text = lines.join('\n');
        const a = parseRegrtest(text);
        for (const name of [
          ...a.failed,
          ...a.flaky,
          ...a.envChanged,
          ...a.crashed,
          ...a.timedOut,
          ...a.leaked,
        ]) {
          expect(text).toContain(name);
        }
      }),
      { numRuns: 3000 },
    );
  });
});

function textOf(m: Message): string {
  return [...(m.title ? [lineText(m.title)] : []), ...m.lines.map(lineText)].join('\n');
}
