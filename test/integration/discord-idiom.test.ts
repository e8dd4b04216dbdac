/**
 * bbwatch as Discord's users expect it, with the default config (`prefix_commands: auto`): a
 * slash command's help and refusals say `/status`; `!status` typed in a channel is answered when
 * the Developer Portal allows the Message Content intent and cannot be seen when it does not
 * (mentions and slash commands still work, and their help then points at `/status`); a direct
 * message is answered, with nothing granted by roles there. The core runs in-process with the real
 * Discord adapter against the stand-in; the master is unreachable, since nothing here needs builds.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DiscordAdapter } from '../../adapters/discord/discord.js';
import { discordAdapterOptions } from '../../src/config/chat-discord.js';
import { COMMANDS } from '../../commands/index.js';
import { type RunningBot, startBot } from '../../src/bot.js';
import { defineCommand } from '../../src/chat/command.js';
import { parseConfig } from '../../src/config/load.js';
import { reply } from '../../src/messages/message.js';
import {
  type FakeDiscord,
  Intents,
  type StoredMessage,
  startFakeDiscord,
} from '../support/discord/fake-discord.js';
import type { FakeMember } from '../support/discord/world.js';
import { testServices } from '../support/matrix/services.js';

/** A command that needs `force` and touches no master: who may run it, and where. */
const probe = defineCommand({
  name: 'probe',
  summary: 'needs the force permission',
  usage: '',
  permission: 'force',
  run: (ctx) => reply([`probed by ${ctx.sender.name}`]),
});

interface Setup {
  discord: FakeDiscord;
  bot: RunningBot;
}

/** The stand-in (its Portal switch for Message Content on or off) and a bot with the default config. */
async function setUp(contentIntent: boolean): Promise<Setup> {
  const discord = await startFakeDiscord();
  if (!contentIntent) discord.gateway.disallowedIntents = Intents.MessageContent;
  const dir = mkdtempSync(join(tmpdir(), 'bbwatch-discord-idiom-'));
  const { ciRole, mallory } = discord.world;
  const config = parseConfig(
    `masters:
  - name: lab
    url: http://127.0.0.1:9/
    stream: poll
storage: ${join(dir, 'state.sqlite')}
chat:
  discord:
    token: \${TOKEN}
    api: ${discord.apiUrl}
permissions:
  force: ["discord:role:${ciRole.id}", "discord:user:${mallory.user.id}"]
`,
    'test',
    { TOKEN: discord.token },
  );
  const d = config.chat.discord;
  if (!d) throw new Error('no chat.discord in the config');
  expect(d.prefix_commands).toBe('auto'); // the default is what is tried here
  const adapter = new DiscordAdapter(discordAdapterOptions(d));
  const bot = await startBot({
    config,
    adapters: [adapter],
    commands: [...COMMANDS, probe],
    log: pino({ level: process.env.BBWATCH_TEST_LOG ?? 'silent' }),
  });
  bot.ready.catch(() => undefined); // the master is unreachable on purpose
  await discord.waitFor('the slash commands', () =>
    discord.commandsOf().some((c) => c.json.name === 'probe'),
  );
  return { discord, bot };
}

async function tearDown(setup: Setup | undefined): Promise<void> {
  await setup?.bot.stop();
  await setup?.discord.close();
}

/** What a message reads as: its embeds' titles and descriptions, markdown escapes removed. */
function text(m: StoredMessage): string {
  return m.embeds
    .map((e) => [e.title, e.description].filter(Boolean).join('\n'))
    .join('\n')
    .replace(/\\(.)/g, '$1');
}

/** The bot's reply to a message said in a channel (or a DM). */
async function replyTo(discord: FakeDiscord, asked: StoredMessage): Promise<StoredMessage> {
  const [answer] = await discord.waitFor(`a reply to '${asked.content}'`, () => {
    const r = discord.repliesTo(asked.id);
    return r.length > 0 && r;
  });
  return answer as StoredMessage;
}

/** The help line of one command, from a help answer. */
function helpLine(answer: string, command: string): string | undefined {
  return answer.split('\n').find((l) => new RegExp(`^\\*\\*[!/]${command}\\*\\*`).test(l));
}

describe('Discord, with the Message Content intent allowed in the Developer Portal', () => {
  let setup: Setup;
  beforeAll(async () => {
    setup = await setUp(true);
  });
  afterAll(() => tearDown(setup));

  it('asks for it (and for direct messages), so !status typed in a channel is answered', async () => {
    const { discord } = setup;
    expect(discord.gateway.events.find((e) => e.kind === 'identify')?.intents).toBe(
      Intents.Guilds | Intents.GuildMessages | Intents.DirectMessages | Intents.MessageContent,
    );
    const answer = await replyTo(discord, discord.say(discord.world.alice, '!status'));
    expect(answer.embeds.length).toBe(1);
    expect(text(answer)).not.toBe('');
  });

  it('lists /commands in /help, and !commands in !help', async () => {
    const { discord } = setup;
    const slash = text((await discord.answer(discord.command(discord.world.alice, 'help'))).message);
    expect(helpLine(slash, 'status')).toMatch(/^\*\*\/status\*\* /);
    expect(helpLine(slash, 'force')).toMatch(/^\*\*\/force\*\* .*\(needs force\)$/);
    expect(slash).toContain('/help <command> explains one.');
    expect(slash).not.toMatch(/(^|\s|\*)!\w/);
    const typed = text(await replyTo(discord, discord.say(discord.world.alice, '!help')));
    expect(helpLine(typed, 'status')).toMatch(/^\*\*!status\*\* /);
    expect(typed).toContain('!help <command> explains one.');
  });

  it('refuses /force as /force (privately) and !force as !force', async () => {
    const { discord } = setup;
    const refused = await discord.answer(
      discord.command(discord.world.alice, 'force', { target: 'AMD64 Debian root 3.x' }),
    );
    expect(refused.ephemeral).toBe(true);
    expect(text(refused.message)).toBe("/force needs the 'force' permission.");
    const typed = await replyTo(discord, discord.say(discord.world.alice, '!force AMD64 Debian root 3.x'));
    expect(text(typed)).toBe("!force needs the 'force' permission.");
  });

  it('answers a mention in the !form, since typed commands work here', async () => {
    const { discord } = setup;
    const answer = await replyTo(
      discord,
      discord.say(discord.world.alice, `<@${discord.world.bot.id}> help`),
    );
    expect(helpLine(text(answer), 'status')).toMatch(/^\*\*!status\*\* /);
  });
});

describe('Discord, without the Message Content intent', () => {
  let setup: Setup;
  beforeAll(async () => {
    setup = await setUp(false);
  });
  afterAll(() => tearDown(setup));

  it('logs in without asking for it (Discord would refuse the login) and cannot see !status', async () => {
    const { discord } = setup;
    const identify = discord.gateway.events.filter((e) => e.kind === 'identify');
    expect(identify.map((e) => e.intents)).toEqual([
      Intents.Guilds | Intents.GuildMessages | Intents.DirectMessages,
    ]);
    expect(discord.gateway.events.filter((e) => e.kind === 'close')).toEqual([]);
    const typed = discord.say(discord.world.alice, '!status');
    // A mention said after it is seen and answered; the typed command never was (its text came empty).
    await replyTo(discord, discord.say(discord.world.alice, `<@${discord.world.bot.id}> status`));
    await replyTo(discord, discord.say(discord.world.alice, `<@${discord.world.bot.id}> help`));
    expect(discord.repliesTo(typed.id)).toEqual([]);
  });

  it('points someone who mentioned it at the slash commands: /status in help and refusals', async () => {
    const { discord } = setup;
    const mention = `<@${discord.world.bot.id}>`;
    const help = text(await replyTo(discord, discord.say(discord.world.alice, `${mention} help`)));
    expect(helpLine(help, 'status')).toMatch(/^\*\*\/status\*\* /);
    expect(help).not.toMatch(/(^|\s|\*)!\w/);
    const refused = await replyTo(discord, discord.say(discord.world.alice, `${mention} force custom`));
    expect(text(refused)).toBe("/force needs the 'force' permission.");
  });

  it('answers a direct message, in the DM, with or without the !', async () => {
    const { discord } = setup;
    const { alice } = discord.world;
    const inChannel = discord.posts(discord.world.channel.id).length;
    for (const line of ['help', '!help']) {
      const asked = discord.dm(alice, line);
      const answer = await replyTo(discord, asked);
      expect(answer.channelId).toBe(asked.channelId);
      expect(answer.guildId).toBeUndefined();
      expect(helpLine(text(answer), 'status')).toMatch(/^\*\*!status\*\* /);
    }
    const status = await replyTo(discord, discord.dm(alice, 'status 3.x'));
    expect(text(status)).not.toBe('');
    expect(discord.dmPosts(alice).length).toBe(3);
    // Nothing went to the channel.
    expect(discord.posts(discord.world.channel.id).length).toBe(inChannel);
  });

  it('grants nothing by role in a DM (Discord sends none), only by the user’s own id', async () => {
    const { discord } = setup;
    const { admin, mallory } = discord.world;
    // The admin's role grants force in the server; a DM carries no roles.
    expect(text(await replyTo(discord, discord.dm(admin, 'probe')))).toBe(
      "!probe needs the 'force' permission.",
    );
    const inServer = await discord.answer(discord.command(admin, 'probe'));
    expect(text(inServer.message)).toBe('probed by admin');
    // Mallory is granted by user id, which holds everywhere.
    expect(text(await replyTo(discord, discord.dm(mallory as FakeMember, 'probe')))).toBe(
      'probed by mallory',
    );
  });
});

describe('Discord coming back after an outage', () => {
  let discord: FakeDiscord | undefined;
  let adapter: DiscordAdapter | undefined;
  afterAll(async () => {
    await adapter?.stop();
    await discord?.close();
  });

  it('tells the core it is connected again, so that what waited goes out at once', async () => {
    discord = await startFakeDiscord();
    const t = testServices();
    adapter = new DiscordAdapter({
      token: discord.token,
      prefixCommands: 'auto',
      slashCommands: true,
      lineLimit: 20,
      api: discord.apiUrl,
    });
    await adapter.start(async () => undefined, t.services);
    await t.waitForConnects(1);
    discord.outage();
    await t.waitForLog('discord: gateway lost; reconnecting');
    expect(adapter.isConnected()).toBe(false);
    expect(t.connects()).toBe(1);
    discord.restore();
    await t.waitForConnects(2);
    expect(adapter.isConnected()).toBe(true);
  });
});
