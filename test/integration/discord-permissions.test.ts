/**
 * Who may do what on Discord: identities and roles come from the member Discord sends (ids, never
 * names), refusals are ephemeral, and a slow answer is deferred first. The core (startBot) runs
 * in-process with the real Discord adapter against the stand-in and a guarded command of its own,
 * since no command of the CLI needs a permission yet. The master is unreachable: nothing here
 * needs builds.
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
import { PermissionError } from '../../src/errors.js';
import { reply } from '../../src/messages/message.js';
import { type FakeDiscord, type StoredMessage, startFakeDiscord } from '../support/discord/fake-discord.js';

let discord: FakeDiscord;
let bot: RunningBot;
/** Lets the probe command's slow runs finish. */
let release: () => void = () => undefined;

const guarded = defineCommand({
  name: 'guarded',
  summary: 'a command only the CI role may run',
  usage: '[fast|slow|slow-refusal]',
  args: [
    { name: 'speed', description: 'how to answer', kind: 'text', choices: ['fast', 'slow', 'slow-refusal'] },
  ],
  permission: 'force',
  async run(ctx) {
    const speed = ctx.args[0] ?? 'fast';
    if (speed !== 'fast') await new Promise<void>((resolve) => (release = resolve));
    if (speed === 'slow-refusal') throw new PermissionError('Not on this builder, sorry.');
    // Like a forced build's answer: for the person who asked, who is pinged on purpose.
    return reply([`done (${speed}) for ${ctx.sender.name}`], {
      mention: { name: ctx.sender.name, identity: ctx.sender.identity },
    });
  },
});

beforeAll(async () => {
  discord = await startFakeDiscord();
  const dir = mkdtempSync(join(tmpdir(), 'bbwatch-discord-'));
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
    prefix_commands: true
permissions:
  force: ["discord:role:${discord.world.ciRole.id}"]
`,
    'test',
    { TOKEN: discord.token },
  );
  const d = config.chat.discord;
  if (!d) throw new Error('no chat.discord in the config');
  const adapter = new DiscordAdapter(discordAdapterOptions(d));
  bot = await startBot({
    config,
    adapters: [adapter],
    commands: [...COMMANDS, guarded],
    log: pino({ level: process.env.BBWATCH_TEST_LOG ?? 'silent' }),
  });
  bot.ready.catch(() => undefined); // the master is unreachable on purpose
  await discord.waitFor('guarded to be registered', () =>
    discord.commandsOf().some((c) => c.json.name === 'guarded'),
  );
});

afterAll(async () => {
  release();
  await bot?.stop();
  await discord?.close();
});

function text(m: StoredMessage): string {
  return m.embeds.map((e) => [e.title, e.description].filter(Boolean).join('\n')).join('\n');
}

describe('Discord permissions', () => {
  it('lets a member with the granted role run the command, and refuses the others privately', async () => {
    const { admin, alice, mallory } = discord.world;
    const allowed = await discord.answer(discord.command(admin, 'guarded'));
    expect(allowed.ephemeral).toBe(false);
    expect(text(allowed.message)).toBe('done (fast) for admin');
    // The one deliberate ping: the member who asked, nobody else.
    expect(discord.pings(allowed.message)).toEqual({ everyone: false, users: [admin.user.id], roles: [] });

    for (const member of [alice, mallory]) {
      const refused = await discord.answer(discord.command(member, 'guarded'));
      expect(refused.ephemeral).toBe(true);
      expect(text(refused.message)).toBe("/guarded needs the 'force' permission.");
    }
  });

  it('never grants by name: a role or nickname named like the granted role counts for nothing', async () => {
    const { mallory, ciRole, impostorRole } = discord.world;
    expect(impostorRole.name).toBe(ciRole.name);
    expect(mallory.nick).toBe(ciRole.name);
    const asked = discord.say(mallory, '!guarded');
    const [answer] = await discord.waitFor('the reply to !guarded', () => {
      const r = discord.repliesTo(asked.id);
      return r.length > 0 && r;
    });
    expect(text(answer as StoredMessage)).toBe("!guarded needs the 'force' permission.");
  });

  it('marks in !help what the caller may not run', async () => {
    const help = async (member: (typeof discord.world)['alice']) => {
      const asked = discord.say(member, '!help');
      const [answer] = await discord.waitFor('the reply to !help', () => {
        const r = discord.repliesTo(asked.id);
        return r.length > 0 && r;
      });
      return text(answer as StoredMessage)
        .split('\n')
        .find((l) => l.includes('!guarded'));
    };
    expect(await help(discord.world.alice)).toMatch(/\(needs force\)$/);
    expect(await help(discord.world.admin)).not.toMatch(/needs force/);
  });

  it('defers a slow answer and edits it in', async () => {
    const interaction = discord.command(discord.world.admin, 'guarded', { speed: 'slow' });
    await discord.waitFor('the deferral', () => interaction.callbacks[0]?.type === 5);
    expect(interaction.state).toBe('deferred');
    release();
    const answer = await discord.answer(interaction);
    expect(answer).toMatchObject({ deferred: true, ephemeral: false });
    expect(text(answer.message)).toBe('done (slow) for admin');
  });

  it('turns a slow refusal into an ephemeral follow-up, removing the public "thinking…"', async () => {
    const interaction = discord.command(discord.world.admin, 'guarded', { speed: 'slow-refusal' });
    await discord.waitFor('the deferral', () => interaction.callbacks[0]?.type === 5);
    release();
    const answer = await discord.answer(interaction);
    expect(answer).toMatchObject({ deferred: true, ephemeral: true });
    expect(text(answer.message)).toBe('Not on this builder, sorry.');
    expect(interaction.originalDeleted).toBe(true);
  });
});
