import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import { ConfigError } from '../../src/errors.js';

const GOOD = `
masters:
  - name: lab
    url: http://127.0.0.1:8010
`;

function problems(yaml: string): string[] {
  try {
    parseConfig(yaml, 'test.yaml', {});
  } catch (err) {
    if (err instanceof ConfigError) return [...err.issues];
    throw err;
  }
  throw new Error('expected the config to be refused');
}

describe('http: and digest: configuration', () => {
  it('are off by default', () => {
    const config = parseConfig(GOOD, 'test.yaml', {});
    expect(config.http).toBeUndefined();
    expect(config.digest).toEqual([]);
  });

  it('http listens on 127.0.0.1 unless told otherwise', () => {
    expect(parseConfig(`${GOOD}http: { port: 9464 }\n`, 'test.yaml', {}).http).toEqual({
      listen: '127.0.0.1',
      port: 9464,
    });
    expect(parseConfig(`${GOOD}http: { listen: '::1', port: 9464 }\n`, 'test.yaml', {}).http?.listen).toBe(
      '::1',
    );
    expect(problems(`${GOOD}http: { port: 70000 }\n`).join('\n')).toMatch(/http\.port/);
    expect(problems(`${GOOD}http: { listen: 127.0.0.1 }\n`).join('\n')).toMatch(/http\.port/);
  });

  it('digest entries take a destination, a cron expression and days', () => {
    const config = parseConfig(`${GOOD}digest:\n  - { to: console, cron: "0 8 * * 1" }\n`, 'test.yaml', {});
    expect(config.digest).toEqual([{ to: 'console', cron: '0 8 * * 1', days: 7 }]);
    expect(problems(`${GOOD}digest:\n  - { to: console, cron: "0 25 * * 1" }\n`).join('\n')).toMatch(
      /digest\[0\]\.cron \(line 6\): hour '25': must be within 0-23/,
    );
    expect(problems(`${GOOD}digest:\n  - { to: "irc:#x", cron: "0 8 * * 1" }\n`)).toEqual([
      "digest[0].to: 'irc:#x' is not a destination of an enabled chat platform",
    ]);
  });
});
