/**
 * The doctor's checklist as printed (plain on a pipe, marks and colours on a terminal), what it
 * does with untrusted text and secrets, its exit status, the runner's timeouts, and which rooms
 * and secrets it takes from a configuration.
 */
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import {
  type CheckResult,
  checklistJson,
  clean,
  exitStatus,
  formatCheck,
  summaryLine,
} from '../../src/doctor/checklist.js';
import { destinationsOf } from '../../src/doctor/doctor.js';
import { CheckRunner } from '../../src/doctor/runner.js';
import { secretsOf } from '../../src/doctor/secrets.js';

const sasl: CheckResult = {
  section: 'irc',
  title: 'SASL PLAIN login as bbwatch',
  status: 'fail',
  detail: 'refused',
  fix: 'check chat.irc.sasl.password (from $BBWATCH_IRC_PASSWORD) — the server said: SASL authentication failed',
};

describe('the checklist', () => {
  it('prints one line per check, and the fix indented under a failure, in words on a pipe', () => {
    expect(
      formatCheck(
        { section: 'store', title: 'SQLite ./bbwatch.sqlite', status: 'ok', detail: 'opens' },
        'plain',
      ),
    ).toEqual(['ok   store: SQLite ./bbwatch.sqlite — opens']);
    expect(formatCheck(sasl, 'plain')).toEqual([
      'FAIL irc: SASL PLAIN login as bbwatch — refused',
      '      fix: check chat.irc.sasl.password (from $BBWATCH_IRC_PASSWORD) — the server said: SASL authentication failed',
    ]);
    expect(
      formatCheck(
        { section: 'master lab', title: 'login', status: 'skip', detail: 'not tried: no auth' },
        'plain',
      ),
    ).toEqual(['skip master lab: login — not tried: no auth']);
  });

  it('gives each line of a fix its own line, and prints no fix for a check that passed', () => {
    const config: CheckResult = {
      section: 'config',
      title: 'bbwatch.yaml',
      status: 'fail',
      detail: 'it has 2 problems',
      fix: "masters[0].url: is required\nmasters[0].urll (line 3): unknown key 'urll'",
    };
    expect(formatCheck(config, 'plain')).toEqual([
      'FAIL config: bbwatch.yaml — it has 2 problems',
      '      fix: masters[0].url: is required',
      "           masters[0].urll (line 3): unknown key 'urll'",
    ]);
    expect(formatCheck({ ...config, status: 'ok', detail: undefined }, 'plain')).toEqual([
      'ok   config: bbwatch.yaml',
    ]);
  });

  it('uses marks and colours on a terminal', () => {
    const lines = formatCheck(sasl, 'tty');
    expect(lines).toEqual([
      '\x1b[31m✗\x1b[0m irc: SASL PLAIN login as bbwatch — refused',
      '    fix: check chat.irc.sasl.password (from $BBWATCH_IRC_PASSWORD) — the server said: SASL authentication failed',
    ]);
    expect(formatCheck({ ...sasl, status: 'ok', fix: undefined }, 'tty')[0]).toMatch(/^\x1b\[32m✓\x1b\[0m /);
    expect(formatCheck({ ...sasl, status: 'warn' }, 'tty')[0]).toMatch(/^\x1b\[33m!\x1b\[0m /);
  });

  it('never lets a server put control characters or escape sequences on the terminal', () => {
    const hostile: CheckResult = {
      section: 'irc',
      title: 'join #lab',
      status: 'fail',
      detail: 'Cannot join\x1b[2J\x1b]0;owned\x07\r\nQUIT :bye\x00',
      fix: 'the server said: \x1b[31mred\x1b[0m\u009b',
    };
    const printed = formatCheck(hostile, 'plain').join('\n');
    expect(printed).not.toMatch(/[\x00-\x08\x0b-\x1f\x7f-\x9f]/);
    expect(printed).toBe(
      'FAIL irc: join #lab — Cannot join ]0;owned QUIT :bye\n      fix: the server said: red',
    );
  });

  it('masks every secret, the longest first, wherever it would appear', () => {
    const secrets = ['hunter2', 'hunter2hunter2', 'ab'];
    expect(clean('token hunter2hunter2 and hunter2 and ab', secrets)).toBe(
      'token [secret] and [secret] and ab',
    );
    const leaky = { ...sasl, detail: 'refused hunter2', fix: 'hunter2hunter2 was wrong' };
    expect(formatCheck(leaky, 'plain', secrets).join('\n')).not.toContain('hunter2');
    expect(JSON.stringify(checklistJson([leaky], 'x.yaml', secrets))).not.toContain('hunter2');
  });

  it('cuts very long text', () => {
    expect(clean('x'.repeat(1000))).toHaveLength(400);
  });

  it('exits 0 only when nothing needed failed; warnings and checks not tried do not count', () => {
    const ok: CheckResult = { section: 'http', title: 'listen', status: 'ok' };
    const warn: CheckResult = { ...ok, status: 'warn', fix: 'fine' };
    const skip: CheckResult = { ...ok, status: 'skip' };
    expect(exitStatus([ok, warn, skip])).toBe(0);
    expect(exitStatus([ok, sasl, warn])).toBe(1);
    expect(summaryLine([ok, ok])).toBe('Everything works: 2 checks passed.');
    expect(summaryLine([ok, warn])).toBe('Everything needed works (1 check passed, 1 warning).');
    expect(summaryLine([sasl, sasl, warn, skip])).toBe(
      '2 problems, 1 warning, 1 not tried: bbwatch would not work as configured (see the fix lines).',
    );
  });

  it('answers the same checks as JSON', () => {
    expect(checklistJson([sasl], 'bbwatch.yaml')).toEqual({
      ok: false,
      config: 'bbwatch.yaml',
      checks: [sasl],
      summary: '1 problem: bbwatch would not work as configured (see the fix lines).',
    });
  });
});

describe('the runner', () => {
  it('records a check that throws as failed, with the error and a fix', async () => {
    const runner = new CheckRunner({ timeoutMs: 1_000 });
    const outcome = await runner.check('irc', 'connect', async () => {
      throw new Error('boom');
    });
    expect(outcome).toMatchObject({ status: 'fail', detail: 'boom' });
    expect(outcome.fix).toMatch(/--log-level debug/);
    expect(runner.results).toEqual([{ section: 'irc', title: 'connect', ...outcome }]);
  });

  it('gives up on a check that never answers, aborts it, and goes on', async () => {
    const runner = new CheckRunner({ timeoutMs: 20 });
    let aborted = false;
    const outcome = await runner.check('master lab', 'answers', (signal) => {
      signal.addEventListener('abort', () => (aborted = true));
      return new Promise(() => undefined);
    });
    expect(outcome).toMatchObject({ status: 'fail', detail: 'no answer within 20 ms' });
    expect(aborted).toBe(true);
    const next = await runner.check('http', 'listen', async () => ({ status: 'ok' }), { timeoutMs: 1_000 });
    expect(next.status).toBe('ok');
    expect(runner.results.map((r) => r.status)).toEqual(['fail', 'ok']);
  });

  it('tells of each result as it is recorded, skips included', async () => {
    const seen: string[] = [];
    const runner = new CheckRunner({
      timeoutMs: 1_000,
      onResult: (r) => seen.push(`${r.status} ${r.title}`),
    });
    const probe = runner.services('irc', {
      key: (p) => p,
      state: { get: () => undefined },
      log: undefined as never,
    });
    await probe.check('connect', async () => ({ status: 'ok' }));
    // A doctor check reported as skipped (what this test is about), not a skipped test.
    probe.skip('join #lab', 'no connection');
    expect(seen).toEqual(['ok connect', 'skip join #lab']);
    expect(runner.results[1]).toEqual({
      section: 'irc',
      title: 'join #lab',
      status: 'skip',
      detail: 'not tried: no connection',
    });
  });
});

describe('what the doctor takes from a configuration', () => {
  const yaml = `masters:
  - name: lab
    url: http://127.0.0.1:8010/
    auth: { username: bot, password: "\${LAB_PASSWORD}" }
postgres: "postgres://bbwatch:p%40ss@db/bbwatch"
chat:
  irc:
    host: irc.example.org
    sasl: { account: bbwatch, password: written-in-the-file }
    channels: ["#lab", { name: "#keyed", key: channel-key }]
  discord:
    token: "\${DISCORD_TOKEN}"
notify:
  - to: "irc:#lab"
  - to: "discord:123456789012345678"
  - to: "irc:#alerts"
digest:
  - to: "irc:#lab"
    cron: "0 9 * * 1"
  - to: "discord:223456789012345678"
    cron: "0 9 * * 1"
tracker:
  token: ghp_written_in_the_file
`;
  const config = parseConfig(yaml, 'test.yaml', { LAB_PASSWORD: 'from-env', DISCORD_TOKEN: 'tok.en.value' });

  it('every secret, from the environment or written in the file', () => {
    expect(secretsOf(config).sort()).toEqual(
      [
        'channel-key',
        'from-env',
        'ghp_written_in_the_file',
        'p%40ss',
        'p@ss',
        'tok.en.value',
        'written-in-the-file',
      ].sort(),
    );
  });

  it('which environment variable each key came from', () => {
    expect(config.envRefs).toEqual({
      'masters[0].auth.password': ['LAB_PASSWORD'],
      'chat.discord.token': ['DISCORD_TOKEN'],
    });
  });

  it('the rooms each platform announces to, each once, with the key that asks for it', () => {
    expect(destinationsOf(config)).toEqual({
      irc: [
        { room: '#lab', from: 'notify[0].to' },
        { room: '#alerts', from: 'notify[2].to' },
      ],
      discord: [
        { room: '123456789012345678', from: 'notify[1].to' },
        { room: '223456789012345678', from: 'digest[1].to' },
      ],
    });
  });
});
