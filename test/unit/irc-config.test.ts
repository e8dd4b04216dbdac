import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import { problems } from '../support/config.js';

const MASTER = `
masters:
  - name: lab
    url: http://127.0.0.1:8010
`;

describe('chat.irc configuration', () => {
  it('fills in safe defaults: TLS with certificate checks, Libera-safe flood control', () => {
    const config = parseConfig(
      `${MASTER}chat:\n  irc:\n    host: irc.libera.chat\n    channels: ["#python-dev"]\n`,
      't.yaml',
      {},
    );
    expect(config.chat.irc).toMatchObject({
      host: 'irc.libera.chat',
      tls: true,
      tls_verify: true,
      nick: 'bbwatch',
      channels: [{ name: '#python-dev' }],
      ops_operate: false,
      announce_as: 'privmsg',
      colours: true,
      announce_lines: 4,
      channel_reply_lines: 4,
      reply_lines: 20,
      flood: { burst: 4, interval: 1000 },
      reconnect: { min: 2000, max: 300_000 },
      ping_timeout: 120_000,
    });
    expect(config.chat.irc?.port).toBeUndefined(); // 6697 with TLS, 6667 without
    // IRC replaces the console as the default chat, and irc: destinations are accepted.
    expect(config.chat.console).toBe(false);
  });

  it('takes the SASL password from the environment, and treats it as a secret', () => {
    const yaml = `${MASTER}chat:
  irc:
    host: irc.libera.chat
    sasl: { account: bbwatch, password: "\${IRC_PASSWORD}" }
    channels: ["#python-dev", { name: "#secret", key: "\${IRC_KEY}" }]
notify:
  - to: "irc:#python-dev"
permissions:
  force: ["irc:alice"]
`;
    const config = parseConfig(yaml, 't.yaml', { IRC_PASSWORD: 'hunter22', IRC_KEY: 'sesame' });
    expect(config.chat.irc?.sasl).toEqual({ mechanism: 'PLAIN', account: 'bbwatch', password: 'hunter22' });
    expect(config.chat.irc?.channels).toEqual([{ name: '#python-dev' }, { name: '#secret', key: 'sesame' }]);
    expect(config.secrets).toEqual(expect.arrayContaining(['hunter22', 'sesame']));
    expect(config.notify).toEqual([{ to: 'irc:#python-dev', events: ['failure'] }]);
    expect(problems(yaml)).toEqual([
      expect.stringMatching(/environment variable IRC_PASSWORD is not set/),
      expect.stringMatching(/IRC_KEY/),
    ]);
  });

  it('names every mistake with its key', () => {
    const issues = problems(`${MASTER}chat:
  irc:
    host: irc.libera.chat
    nick: "9lives"
    channels: ["python-dev"]
    sasl: { account: bbwatch }
    flood: { burst: 0, interval: soon }
    colors: false
`);
    expect(issues.join('\n')).toMatch(/chat\.irc\.colors.*unknown key/);
    const fixed = problems(`${MASTER}chat:
  irc:
    host: irc.libera.chat
    nick: "9lives"
    channels: ["python-dev"]
    sasl: { account: bbwatch }
    flood: { burst: 0, interval: soon }
`).join('\n');
    expect(fixed).toMatch(/chat\.irc\.nick.*not a valid IRC nick/);
    expect(fixed).toMatch(/chat\.irc\.channels\[0\].*not a channel name/);
    expect(fixed).toMatch(/chat\.irc\.flood\.burst/);
    expect(fixed).toMatch(/chat\.irc\.flood\.interval.*'soon' is not a duration/);
  });

  it('asks for what a SASL mechanism needs', () => {
    expect(
      problems(`${MASTER}chat:\n  irc:\n    host: h\n    sasl: { account: bbwatch }\n`).join('\n'),
    ).toMatch(/chat\.irc\.sasl.*PLAIN needs account and password/);
    expect(
      problems(`${MASTER}chat:\n  irc:\n    host: h\n    sasl: { mechanism: EXTERNAL }\n`).join('\n'),
    ).toMatch(/chat\.irc\.sasl.*EXTERNAL needs client_cert/);
  });

  it('refuses an irc: destination when IRC is not configured', () => {
    expect(problems(`${MASTER}notify:\n  - to: "irc:#python-dev"\n`).join('\n')).toMatch(
      /needs chat\.irc to be enabled/,
    );
  });

  it('accepts examples/irc.yaml', () => {
    const yaml = readFileSync(new URL('../../examples/irc.yaml', import.meta.url), 'utf8');
    const config = parseConfig(yaml, 'examples/irc.yaml', { IRC_PASSWORD: 'x' });
    expect(config.chat.irc?.channels.map((c) => c.name)).toEqual(['#python-dev', '#python-dev-notifs']);
  });
});
