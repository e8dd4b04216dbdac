import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import { problems } from '../support/config.js';

const MASTER = `
masters:
  - name: lab
    url: http://127.0.0.1:8010
`;

function matrix(body: string, notify = ''): string {
  return `${MASTER}chat:\n  matrix:\n${body
    .trim()
    .split('\n')
    .map((l) => `    ${l}`)
    .join('\n')}\n${notify}`;
}

describe('chat.matrix configuration', () => {
  it('reads a token from the environment, as a secret, with defaults filled in', () => {
    const config = parseConfig(
      matrix(
        `
homeserver: https://matrix.example.org/
user_id: "@bbwatch:example.org"
access_token: \${MATRIX_TOKEN}
rooms: ["#python-buildbots:example.org"]
`,
        'notify:\n  - to: "matrix:#python-buildbots:example.org"\n',
      ),
      'test.yaml',
      { MATRIX_TOKEN: 'syt_secret_token' },
    );
    expect(config.chat.matrix).toEqual({
      homeserver: 'https://matrix.example.org',
      user_id: '@bbwatch:example.org',
      access_token: 'syt_secret_token',
      device_name: 'bbwatch',
      rooms: ['#python-buildbots:example.org'],
      invites_from: [],
      line_limit: 25,
    });
    expect(config.secrets).toContain('syt_secret_token');
    // Another network configured: the console is off unless asked for.
    expect(config.chat.console).toBe(false);
    expect(config.notify[0]?.to).toBe('matrix:#python-buildbots:example.org');
  });

  it('takes a password instead, power levels, and invites from users and servers', () => {
    const config = parseConfig(
      matrix(`
homeserver: http://127.0.0.1:8008
user_id: "@bbwatch:example.org"
password: \${MATRIX_PASSWORD}
invites_from: ["@alice:example.org", "python.org", "localhost:8448"]
power_levels: { operate: 50, force: 100 }
`),
      'test.yaml',
      { MATRIX_PASSWORD: 'hunter22' },
    );
    expect(config.chat.matrix?.power_levels).toEqual({ operate: 50, force: 100 });
    expect(config.chat.matrix?.invites_from).toHaveLength(3);
    expect(config.secrets).toContain('hunter22');
  });

  it('needs exactly one of access_token and password', () => {
    const base = 'homeserver: https://m.example.org\nuser_id: "@b:example.org"';
    expect(problems(matrix(base))).toEqual([
      'chat.matrix (line 6): needs exactly one of access_token and password',
    ]);
    expect(problems(matrix(`${base}\naccess_token: a\npassword: b`))).toEqual([
      'chat.matrix.password (line 10): needs exactly one of access_token and password',
    ]);
  });

  it('names wrong user ids, rooms, servers and unknown keys', () => {
    const issues = problems(
      matrix(`
homeserver: matrix.example.org
user_id: bbwatch
access_token: t
rooms: ["python-buildbots"]
invites_from: ["not a server!"]
colour: blue
`),
    );
    expect(issues).toEqual(
      expect.arrayContaining([
        expect.stringMatching(
          /^chat\.matrix\.homeserver \(line 7\): must be an http:\/\/ or https:\/\/ URL$/,
        ),
        expect.stringMatching(/^chat\.matrix\.user_id \(line 8\): must be a Matrix user id/),
        expect.stringMatching(/^chat\.matrix\.rooms\[0\] \(line 10\): must be a room id/),
        expect.stringMatching(/^chat\.matrix\.invites_from\[0\] \(line 11\): must be a user id/),
        "chat.matrix.colour (line 12): unknown key 'colour'",
      ]),
    );
  });

  it('accepts matrix: destinations only with chat.matrix on', () => {
    expect(problems(`${MASTER}notify:\n  - to: "matrix:#ci:example.org"\n`)).toEqual([
      "notify[0].to: 'matrix:#ci:example.org' needs chat.matrix to be enabled",
    ]);
  });
});
