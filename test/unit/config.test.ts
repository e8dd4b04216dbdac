import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { defaultConfig, loadConfigFile, parseConfig } from '../../src/config/load.js';
import { problems } from '../support/config.js';

const GOOD = `
masters:
  - name: lab
    url: http://127.0.0.1:8010
`;

describe('configuration', () => {
  it('fills in defaults and turns the console on when no chat network is configured', () => {
    const config = parseConfig(GOOD, 'test.yaml', {});
    expect(config.masters[0]).toMatchObject({
      name: 'lab',
      url: 'http://127.0.0.1:8010/',
      stream: 'auto',
      request_budget: { requests: 50, per: 10_000 },
      history: 20,
    });
    expect(config.chat.console).toBe(true);
    expect(config.notify).toEqual([{ to: 'console', events: ['failure', 'infra'] }]);
    expect(config.storage).toBe('./bbwatch.sqlite');
    expect(config.announce.max_age).toBe(3 * 3_600_000);
  });

  it('groups later builders of a failure for 30 min by default; an old burst_window is still read', () => {
    expect(parseConfig(GOOD, 'test.yaml', {}).announce.group_window).toBe(30 * 60_000);
    const old = parseConfig(`${GOOD}announce:\n  burst_window: 2m\n`, 'test.yaml', {});
    // Accepted (the bot warns at start that it does nothing), and grouping keeps its default.
    expect(old.announce.burst_window).toBe(120_000);
    expect(old.announce.group_window).toBe(30 * 60_000);
    expect(parseConfig(`${GOOD}announce:\n  group_window: 0\n`, 'test.yaml', {}).announce.group_window).toBe(
      0,
    );
  });

  it("holds a group's recoveries for one line at most 1 h by default; 0 sends each on its own; bad values refused", () => {
    expect(parseConfig(GOOD, 'test.yaml', {}).announce.recovery_hold).toBe(3_600_000);
    expect(
      parseConfig(`${GOOD}announce:\n  recovery_hold: 0\n`, 'test.yaml', {}).announce.recovery_hold,
    ).toBe(0);
    expect(
      parseConfig(`${GOOD}announce:\n  recovery_hold: 20m\n`, 'test.yaml', {}).announce.recovery_hold,
    ).toBe(20 * 60_000);
    expect(() => parseConfig(`${GOOD}announce:\n  recovery_hold: soon\n`, 'test.yaml', {})).toThrow(
      /recovery_hold/,
    );
  });

  it('the embedded default watches CPython with the console', () => {
    const config = defaultConfig({});
    expect(config.masters.map((m) => m.url)).toEqual(['https://buildbot.python.org/all/']);
    expect(config.chat.console).toBe(true);
    expect(config.storage).toBe('./bbwatch.sqlite');
  });

  it('names an unknown key and its line', () => {
    expect(problems(`${GOOD}    colour: red\n`)).toEqual([
      "masters[0].colour (line 5): unknown key 'colour'",
    ]);
    expect(problems(`${GOOD}notfiy: []\n`)).toEqual(["notfiy (line 5): unknown key 'notfiy'"]);
  });

  it('reports a missing master list', () => {
    expect(problems('storage: x.sqlite\n')).toEqual(['masters: is required']);
    expect(problems('masters: []\n')[0]).toMatch(/^masters.*at least one master/);
  });

  it('explains bad values by key', () => {
    const found = problems(`
masters:
  - name: lab
    url: ftp://example.org/
    stream: carrier-pigeon
    timeout: soon
notify:
  - to: console
    events: [explosion]
    builders: "(["
`);
    expect(found).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^masters\[0\]\.url \(line 4\): must be an http/),
        expect.stringMatching(
          /^masters\[0\]\.stream \(line 5\): expected one of "auto"\|"ws"\|"sse"\|"poll"/,
        ),
        expect.stringMatching(/^masters\[0\]\.timeout \(line 6\): 'soon' is not a duration/),
        expect.stringMatching(/^notify\[0\]\.events\[0\] \(line 9\): expected one of "failure"/),
        expect.stringMatching(/^notify\[0\]\.builders \(line 10\): not a valid regular expression/),
      ]),
    );
  });

  it('interpolates environment variables and remembers them as secrets', () => {
    const config = parseConfig(
      'masters:\n  - name: lab\n    url: "http://${HOST}:8010/"\nstorage: "$${literal}"\n',
      't',
      { HOST: '127.0.0.1' },
    );
    expect(config.masters[0]?.url).toBe('http://127.0.0.1:8010/');
    expect(config.storage).toBe('${literal}');
    expect(config.secrets).toEqual(['127.0.0.1']);
  });

  it('names a missing environment variable without guessing its value', () => {
    expect(problems('masters:\n  - name: lab\n    url: "${NOPE}"\n')).toEqual([
      'masters[0].url: environment variable NOPE is not set',
    ]);
  });

  it('shows a value from the environment as its reference when it is refused, never the value', () => {
    const env = { ROOM: 'hunter2-room-token' };
    const said = problems(`${GOOD}notify:\n  - to: "\${ROOM}"\n`, env);
    expect(said).toEqual([
      "notify[0].to: '${ROOM}' is not a destination (write console, or <platform>:<room> for a platform under chat:)",
    ]);
    expect(said.join('\n')).not.toContain('hunter2');
  });

  it('refuses destinations for platforms that are not configured', () => {
    expect(problems(`${GOOD}notify:\n  - to: "slack:#python-dev"\n`)).toEqual([
      "notify[0].to: 'slack:#python-dev' is not a destination (write console, or <platform>:<room> for a platform under chat:)",
    ]);
    expect(problems(`${GOOD}notify:\n  - to: "irc:#python-dev"\n`)).toEqual([
      "notify[0].to: 'irc:#python-dev' needs chat.irc to be enabled",
    ]);
    expect(problems(`${GOOD}chat:\n  console: false\nnotify:\n  - to: console\n`)).toEqual([
      "notify[0].to: 'console' needs chat.console to be enabled",
    ]);
  });

  it('refuses two masters with one name and rules naming unknown masters', () => {
    const found = problems(
      `${GOOD}  - name: lab\n    url: http://127.0.0.1:8011/\nnotify:\n  - to: console\n    masters: [nope]\n`,
    );
    expect(found).toContain("masters[1].name (line 5): 'lab' is used twice");
    expect(found).toContain("notify[0].masters (line 9): no master is named 'nope'");
  });

  it('gives YAML syntax errors with their position', () => {
    expect(problems('masters:\n  - name: [unclosed\n')[0]).toMatch(/^line \d+, column \d+: /);
    expect(problems('')).toEqual(['the file is empty']);
    expect(problems('- just\n- a list\n')[0]).toMatch(/top level must be a mapping/);
  });

  it('reads files and says when one is missing', () => {
    const dir = mkdtempSync(join(tmpdir(), 'bbwatch-config-'));
    const file = join(dir, 'bbwatch.yaml');
    writeFileSync(file, GOOD);
    expect(loadConfigFile(file, {}).masters).toHaveLength(1);
    expect(() => loadConfigFile(join(dir, 'missing.yaml'), {})).toThrow(
      /cannot read the file \(no such file\)/,
    );
  });

  it('the shipped examples are valid', () => {
    for (const example of ['examples/cpython.yaml', 'examples/lab.yaml']) {
      expect(() => loadConfigFile(example, { LAB_URL: 'http://127.0.0.1:8010/' })).not.toThrow();
    }
  });
});
