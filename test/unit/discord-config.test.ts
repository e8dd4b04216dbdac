import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import { ConfigError } from '../../src/errors.js';

const MASTER = 'masters:\n  - name: lab\n    url: http://127.0.0.1:8010/\n';

function problems(yaml: string, env: NodeJS.ProcessEnv = { DISCORD_TOKEN: 'secret-token' }): string[] {
  try {
    parseConfig(MASTER + yaml, 'test.yaml', env);
    return [];
  } catch (err) {
    if (err instanceof ConfigError) return [...err.issues];
    throw err;
  }
}

describe('chat.discord configuration', () => {
  it('needs only the token, and keeps it secret', () => {
    const config = parseConfig(
      `${MASTER}chat:\n  discord:\n    token: \${DISCORD_TOKEN}\nnotify:\n  - to: "discord:123456789012345678"\n`,
      'test.yaml',
      { DISCORD_TOKEN: 'secret-token' },
    );
    expect(config.chat.discord).toEqual({
      token: 'secret-token',
      slash_commands: true,
      prefix_commands: 'auto',
      reply_lines: 20,
      api: 'https://discord.com/api',
    });
    expect(config.secrets).toContain('secret-token');
    expect(config.chat.console).toBe(false); // another chat is configured
  });

  it('asks for ids in quotes, since YAML reads long numbers inexactly', () => {
    expect(problems('chat:\n  discord:\n    token: x\n    guilds: [123456789012345678]\n')).toEqual([
      expect.stringMatching(/^chat\.discord\.guilds\[0\].*write Discord ids in quotes/),
    ]);
    expect(problems('chat:\n  discord:\n    token: x\n    guilds: ["12ab"]\n')).toEqual([
      expect.stringMatching(/'12ab' is not a Discord id/),
    ]);
  });

  it('names unknown keys, bad URLs and a notify destination without chat.discord', () => {
    expect(problems('chat:\n  discord:\n    token: x\n    tokn: y\n')).toEqual([
      expect.stringMatching(/^chat\.discord\.tokn \(line \d+\): unknown key 'tokn'/),
    ]);
    expect(problems('chat:\n  discord:\n    token: x\n    api: ftp://x\n')).toEqual([
      expect.stringMatching(/^chat\.discord\.api.*must be an http:\/\/ or https:\/\/ URL/),
    ]);
    expect(problems('chat:\n  console: true\nnotify:\n  - to: "discord:1"\n')).toEqual([
      "notify[0].to: 'discord:1' needs chat.discord to be enabled",
    ]);
    expect(problems('chat:\n  discord:\n    token: ${MISSING}\n')).toEqual([
      'chat.discord.token: environment variable MISSING is not set',
    ]);
  });
});
