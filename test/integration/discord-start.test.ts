/**
 * Starting bbwatch on Discord when Discord says no, or is not there: a refused token or intent
 * stops the CLI with a message that says what to fix (and never the token); an unreachable Discord
 * does not keep the bot from starting, and it connects once Discord is back.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { type BotProcess, startBot, writeConfig } from '../support/bot.js';
import { type FakeDiscord, Intents, startFakeDiscord } from '../support/discord/fake-discord.js';

let discord: FakeDiscord | undefined;
let bot: BotProcess | undefined;

afterEach(async () => {
  await bot?.stop();
  await discord?.close();
  bot = undefined;
  discord = undefined;
});

function config(fake: FakeDiscord, extra = ''): string {
  return writeConfig(`masters:
  - name: lab
    url: http://127.0.0.1:9/
    stream: poll
storage: ./state.sqlite
chat:
  discord:
    token: \${BBWATCH_TEST_DISCORD_TOKEN}
    api: ${fake.apiUrl}
${extra}`);
}

function output(b: BotProcess): string {
  return [...b.logs.map((l) => JSON.stringify(l)), ...b.stderrText].join('\n');
}

describe('Discord at start', () => {
  it('stops with a clear message when the token is refused, without printing it', async () => {
    discord = await startFakeDiscord();
    process.env.BBWATCH_TEST_DISCORD_TOKEN = 'not-the-token-0123456789';
    bot = await startBot(config(discord), { waitReady: false });
    expect(await bot.exited).toBe(1);
    expect(bot.stderrText.join('\n')).toContain('bbwatch: cannot start: Discord refused the bot token');
    expect(output(bot)).not.toContain('not-the-token-0123456789');
  });

  it('stops and names the missing Developer Portal switch when the Message Content intent is refused', async () => {
    discord = await startFakeDiscord();
    discord.gateway.disallowedIntents = Intents.MessageContent;
    process.env.BBWATCH_TEST_DISCORD_TOKEN = discord.token;
    bot = await startBot(config(discord, '    prefix_commands: true\n'), { waitReady: false });
    expect(await bot.exited).toBe(1);
    expect(bot.stderrText.join('\n')).toContain('the Message Content intent is not enabled for this bot');
    // One refused login, not a loop of them (Discord resets tokens that log in too often).
    expect(discord.gateway.events.filter((e) => e.kind === 'identify')).toHaveLength(1);
  });

  it('starts while Discord is unreachable and connects once it is back', async () => {
    discord = await startFakeDiscord();
    discord.outage();
    process.env.BBWATCH_TEST_DISCORD_TOKEN = discord.token;
    bot = await startBot(config(discord), { waitReady: false });
    await bot.waitForLog('discord: cannot log in yet; retrying');
    discord.restore();
    await bot.waitForLog('discord: ready');
    await discord.waitFor('the slash commands', () =>
      discord?.commandsOf().some((c) => c.json.name === 'status'),
    );
    expect(await bot.stop()).toBe(0);
  });
});
