/**
 * bbwatch on Discord, end to end: the real CLI with `chat.discord`, a real Buildbot master, and the
 * local Discord stand-in (test/support/discord/) that the real discord.js talks to. Announcements
 * arrive as embeds, slash and `!` commands are answered, nothing pings anyone, a gateway outage
 * loses and doubles nothing, a 429 is waited out.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { COMMANDS } from '../../commands/index.js';
import type { BotProcess } from '../support/bot.js';
import { startBot, writeConfig } from '../support/bot.js';
import {
  type FakeDiscord,
  Intents,
  type StoredMessage,
  startFakeDiscord,
} from '../support/discord/fake-discord.js';
import { type Lab, startLab } from '../support/lab.js';

const BUILDER = 'AMD64 Debian root 3.x';
const OTHER = 'PPC64LE RHEL8 3.x';

let discord: FakeDiscord;
let lab: Lab;
let bot: BotProcess;
/** A builder whose name tries to ping everyone, a role and a user. */
let crafted: string;
let configPath: string;

/** The hue of an embed colour in degrees (red is near 0). */
function hue(colour: number): number {
  const [r, g, b] = [(colour >> 16) & 255, (colour >> 8) & 255, colour & 255].map((c) => c / 255) as [
    number,
    number,
    number,
  ];
  const max = Math.max(r, g, b);
  const min = Math.min(r, g, b);
  if (max === min) return 0;
  const d = max - min;
  const h = max === r ? ((g - b) / d) % 6 : max === g ? (b - r) / d + 2 : (r - g) / d + 4;
  return (h * 60 + 360) % 360;
}

/** Everything a user reads in a message: title, description, field names and values. */
function shown(m: StoredMessage): string {
  return [
    m.content,
    ...m.embeds.flatMap((e) => [
      e.title ?? '',
      e.description ?? '',
      ...(e.fields ?? []).flatMap((f) => [f.name ?? '', f.value ?? '']),
    ]),
  ].join('\n');
}

function announcements(title: RegExp): StoredMessage[] {
  return discord.posts(discord.world.announceChannel.id).filter((m) => title.test(m.embeds[0]?.title ?? ''));
}

function noPings(m: StoredMessage): void {
  expect(discord.pings(m)).toEqual({ everyone: false, users: [], roles: [] });
  expect(m.allowedMentions?.parse).toEqual([]);
}

beforeAll(async () => {
  discord = await startFakeDiscord({ heartbeatIntervalMs: 5000 });
  const { ciRole, admin } = discord.world;
  crafted = `Evil @everyone @here <@&${ciRole.id}> <@${admin.user.id}> 3.x`;
  // A command an earlier bbwatch registered and this one no longer has.
  discord.seedCommand({ name: 'oldcmd', description: 'gone in this version' });
  lab = await startLab({
    branches: ['3.x'],
    platforms: [
      'AMD64 Debian root:stable,tier-1',
      'PPC64LE RHEL8:unstable,tier-3',
      `${crafted.replace(/ 3\.x$/, '')}:unstable`,
    ],
  });
  await Promise.all([BUILDER, OTHER, crafted].map((b) => lab.runBuild(b, 'pass')));
  process.env.BBWATCH_TEST_DISCORD_TOKEN = discord.token;
  configPath = writeConfig(`masters:
  - name: lab
    url: ${lab.url}
    stream: ws
    timeout: 5s
    auth: { username: bot, password: "botpass" }
storage: ./state.sqlite
chat:
  discord:
    token: \${BBWATCH_TEST_DISCORD_TOKEN}
    api: ${discord.apiUrl}
    prefix_commands: true
announce:
  group_window: 0 # these tests count announcements one by one; groups have their own tests
  details: inline # one message per announcement; the split is tested in announce.test.ts
notify:
  - to: discord:${discord.world.announceChannel.id}
    events: [failure, exception, recovery]
permissions:
  operate: ["discord:role:${ciRole.id}"]
  force: ["discord:role:${ciRole.id}"]
`);
  bot = await startBot(configPath);
  await bot.waitForLog('discord: slash commands in place');
});

afterAll(async () => {
  await bot?.stop();
  await lab?.close();
  await discord?.close();
});

describe('Discord', () => {
  it('connects with the intents it needs and keeps the slash commands equal to its own', () => {
    expect(discord.gateway.events.find((e) => e.kind === 'identify')?.intents).toBe(
      Intents.Guilds | Intents.GuildMessages | Intents.DirectMessages | Intents.MessageContent,
    );
    const commands = discord.commandsOf();
    const names = commands.map((c) => c.json.name);
    expect(names).toEqual(expect.arrayContaining(['status', 'last', 'help']));
    expect(names).not.toContain('oldcmd');
    const last = commands.find((c) => c.json.name === 'last');
    expect(last?.json.options).toEqual([
      expect.objectContaining({ name: 'builder', type: 3, required: true, autocomplete: true }),
      expect.objectContaining({ name: 'count', type: 4 }),
    ]);
  });

  it('announces a builder turning red as a red embed with fields and a link, pinging no one', async () => {
    const red = await lab.runBuild(BUILDER, 'fail');
    const [message] = await discord.waitFor('the red announcement', () => {
      const found = announcements(new RegExp(`^${BUILDER} #${red.number} turned red`));
      return found.length > 0 && found;
    });
    const embed = message?.embeds[0];
    const link = `${lab.url}#/builders/${red.builderid}/builds/${red.number}`;
    expect(embed?.title).toBe(`${BUILDER} #${red.number} turned red: failed test (failure)`);
    expect(hue(embed?.color ?? 0x00ff00)).toSatisfy((h: number) => h < 12 || h > 348);
    expect(embed?.url).toBe(link);
    expect(embed?.fields?.slice(0, 2)).toEqual([
      { name: 'Builder', value: BUILDER, inline: true },
      { name: 'Build', value: `[build #${red.number}](${link})`, inline: true },
    ]);
    // The failing test, read from the build's log.
    expect(embed?.fields).toContainEqual({ name: 'Failed', value: '`test_ssl_lab`' });
    expect(embed?.description).toMatch(
      /^Had been passing for (at least )?\d+ s \(since #\d+\)\.\nNo new changes/,
    );
    noPings(message as StoredMessage);
  });

  it('shows @everyone and mentions in a builder name as text, and pings no one', async () => {
    const red = await lab.runBuild(crafted, 'fail');
    const message = await discord.waitFor('the crafted announcement', () =>
      discord
        .posts(discord.world.announceChannel.id)
        .find(
          (m) =>
            m.embeds[0]?.title?.includes(` #${red.number} turned red`) &&
            m.embeds[0].title.startsWith('Evil'),
        ),
    );
    noPings(message);
    const text = shown(message);
    // Readable as written, but no longer mention syntax.
    expect(text).toContain('@\u200beveryone @\u200bhere');
    expect(text).not.toMatch(/@everyone|@here|(?<!\\)<@/);
    expect(text).toContain(`\\<@&${discord.world.ciRole.id}\\>`);

    // Text users type is echoed the same way.
    const asked = discord.say(discord.world.alice, '!status nobody @everyone');
    const [answer] = await discord.waitFor('the answer to !status @everyone', () => {
      const r = discord.repliesTo(asked.id);
      return r.length > 0 && r;
    });
    noPings(answer as StoredMessage);
    expect(shown(answer as StoredMessage)).toContain("No builder matches 'nobody @\u200beveryone'.");
  });

  it('answers /status and /last, and completes builder names', async () => {
    const choices = await discord.autocomplete(discord.world.alice, 'last', { builder: 'debian' }, 'builder');
    expect(choices).toContainEqual({ name: BUILDER, value: BUILDER });

    const status = await discord.answer(discord.command(discord.world.alice, 'status', { which: '3.x' }));
    expect(status.ephemeral).toBe(false);
    expect(status.embeds[0]?.title).toMatch(/^3\.x: 3 builders — 1 green, 2 red$/);
    expect(status.embeds[0]?.description).toContain(`**${BUILDER}**`);

    // A builder name with spaces stays one argument.
    const last = await discord.answer(
      discord.command(discord.world.alice, 'last', { builder: BUILDER, count: 2 }),
    );
    expect(last.embeds[0]?.title).toBe(`${BUILDER}: last 2 builds`);
    expect(last.embeds[0]?.description).toMatch(/^🟥 #\d+ FAIL 🟩 #\d+ ok\n/);
    noPings(last.message);
  });

  it('marks in /help what the caller may not run, going by role ids alone', async () => {
    const guarded = COMMANDS.find((c) => c.permission !== 'read');
    if (!guarded) throw new Error('no CLI command needs a permission: check roles another way');
    const { admin, alice, mallory } = discord.world;
    const lineFor = async (member: typeof alice) => {
      const answer = await discord.answer(discord.command(member, 'help'));
      const lines = (answer.embeds[0]?.description ?? '').split('\n');
      return lines.find((l) => l.startsWith(`**/${guarded.name}**`)) ?? '(no line)';
    };
    expect(await lineFor(alice)).toMatch(new RegExp(`\\(needs ${guarded.permission}\\)$`));
    // Mallory's role and nickname are both called like the granted role: names count for nothing.
    expect(await lineFor(mallory)).toMatch(/\(needs \w+\)$/);
    expect(await lineFor(admin)).not.toMatch(/needs/);
  });

  it('answers !status as a reply, and @bbwatch without the prefix', async () => {
    const asked = discord.say(discord.world.alice, '!status 3.x');
    const [reply] = await discord.waitFor('the reply to !status', () => {
      const r = discord.repliesTo(asked.id);
      return r.length > 0 && r;
    });
    expect(reply?.embeds[0]?.title).toMatch(/^3\.x: 3 builders/);
    noPings(reply as StoredMessage); // not even the asker: replied_user is off

    const mention = discord.say(discord.world.alice, `<@${discord.world.bot.id}> last ${OTHER}`);
    const [answer] = await discord.waitFor('the reply to a mention', () => {
      const r = discord.repliesTo(mention.id);
      return r.length > 0 && r;
    });
    expect(answer?.embeds[0]?.title).toBe(`${OTHER}: last 1 builds`);
  });

  it('/force with a reason: the request, then "started" and "finished" for the requester, in order', async () => {
    const { admin } = discord.world;
    const interaction = discord.command(admin, 'force', { target: OTHER, reason: 'from a slash command' });
    const answer = await discord.answer(interaction);
    expect(answer.embeds[0]?.title).toBe(`Requested ${OTHER}; you will hear when it starts and finishes:`);
    const channel = discord.world.channel.id;
    const followUps = () =>
      discord
        .posts(channel)
        .filter((m) =>
          new RegExp(`^admin: ${OTHER} #\\d+ (started|finished)`).test(m.embeds[0]?.title ?? ''),
        );
    const done = await discord.waitFor('the finished follow-up', () => {
      const all = followUps();
      return all.some((m) => / finished: /.test(m.embeds[0]?.title ?? '')) && all;
    });
    expect(done.map((m) => (m.embeds[0]?.title ?? '').replace(/^admin: .* #\d+ (\w+).*$/, '$1'))).toEqual([
      'started',
      'finished',
    ]);
    // Meant for the requester: each pings them, and only them.
    for (const m of done)
      expect(discord.pings(m)).toEqual({ everyone: false, users: [admin.user.id], roles: [] });
    // The reason went to the master with the request.
    const [build] = (
      await lab.api<{ builds: Array<{ buildrequestid: number }> }>(`builds?order=-buildid&limit=1`)
    ).builds;
    const request = await lab.api<{ buildrequests: Array<{ buildsetid: number }> }>(
      `buildrequests/${build?.buildrequestid}`,
    );
    const buildset = await lab.api<{ buildsets: Array<{ reason: string }> }>(
      `buildsets/${request.buildrequests[0]?.buildsetid}`,
    );
    expect(buildset.buildsets[0]?.reason).toMatch(/: from a slash command$/);
  });

  it('resumes after a dropped connection and answers what was said meanwhile', async () => {
    const resumes = discord.gateway.events.filter((e) => e.kind === 'resumed').length;
    discord.drop();
    const asked = discord.say(discord.world.alice, '!last AMD64 Debian root 3.x 1'); // while disconnected
    await discord.waitFor(
      'a RESUME',
      () => discord.gateway.events.filter((e) => e.kind === 'resumed').length > resumes,
    );
    const [reply] = await discord.waitFor('the reply after the resume', () => {
      const r = discord.repliesTo(asked.id);
      return r.length > 0 && r;
    });
    expect(reply?.embeds[0]?.title).toBe(`${BUILDER}: last 1 builds`);
  });

  it('delivers announcements made during an outage after it, once each, in order', async () => {
    await lab.runBuild(BUILDER, 'pass');
    const green = await lab.runBuild(OTHER, 'pass');
    await bot.waitForBuild(green.buildid);

    const from = bot.logs.length;
    discord.outage();
    await bot.until('the bot to notice the outage', () =>
      bot.logs.slice(from).some((l) => l.msg === 'discord: gateway lost; reconnecting'),
    );
    const first = await lab.runBuild(BUILDER, 'fail');
    await bot.waitForLog('announcement not delivered', { buildid: first.buildid });
    const second = await lab.runBuild(OTHER, 'fail');
    await bot.waitForBuild(second.buildid); // recorded, and waiting behind the first
    expect(announcements(new RegExp(` #(${first.number}|${second.number}) turned red`))).toEqual([]);
    discord.restore();

    const titles = [`${BUILDER} #${first.number} turned red`, `${OTHER} #${second.number} turned red`];
    await discord.waitFor('both announcements', () =>
      titles.every((t) => announcements(new RegExp(`^${t}`)).length > 0),
    );
    // One more round trip, so that a late duplicate would have arrived by now.
    const asked = discord.say(discord.world.alice, '!help');
    await discord.waitFor('the reply to !help', () => discord.repliesTo(asked.id).length > 0);
    const delivered = discord
      .posts(discord.world.announceChannel.id)
      .map((m) => m.embeds[0]?.title ?? '')
      .filter((t) => titles.some((x) => t.startsWith(x)));
    expect(delivered.map((t) => t.replace(/:.*/, ''))).toEqual(titles);
  });

  it('posts an announcement once when Discord took it but the answer was lost', async () => {
    const channel = discord.world.announceChannel.id;
    const green = await lab.runBuild(BUILDER, 'pass');
    // BUILDER is red since the outage test: its recovery goes out first, and must not be the post
    // whose answer is lost (recording the build does not mean it has been announced yet).
    await bot.waitForLog('announced', { buildid: green.buildid, event: 'recovery' });
    discord.loseNextResponse(new RegExp(`^/channels/${channel}/messages$`), 'POST');
    const red = await lab.runBuild(BUILDER, 'fail');
    await bot.waitForLog('announced', { buildid: red.buildid });
    const title = new RegExp(`^${BUILDER} #${red.number} turned red`);
    expect(announcements(title)).toHaveLength(1);
    // The bot did send it again (its first answer never came), with the same nonce.
    const [nonce] = announcements(title).map((m) => m.nonce);
    const sent = discord.rest.requests.filter(
      (r) => r.path === `/channels/${channel}/messages` && (r.body as { nonce?: string }).nonce === nonce,
    );
    expect(sent.length).toBeGreaterThanOrEqual(2);
  });

  it('waits out a 429 and posts the reply once', async () => {
    const channel = discord.world.channel.id;
    discord.rateLimitNext(new RegExp(`^/channels/${channel}/messages$`), 1, 'POST');
    const asked = discord.say(discord.world.alice, '!status 3.x');
    await discord.waitFor('the reply after the 429', () => discord.repliesTo(asked.id).length > 0);
    const posts = discord.rest.requests.filter(
      (r) => r.method === 'POST' && r.path === `/channels/${channel}/messages`,
    );
    // Exactly one 429: discord.js did not come back before retry_after (the stand-in would have said 429 again).
    expect(posts.filter((r) => r.status === 429)).toHaveLength(1);
    expect(discord.repliesTo(asked.id)).toHaveLength(1);
    await bot.waitForLog('discord: rate limited, waiting');
  });

  it('after a restart, registers nothing again, resends nothing, and never shows its token', async () => {
    const posted = discord.posts(discord.world.announceChannel.id).length;
    const writes = () => discord.rest.requests.filter((r) => r.method === 'PUT').length;
    const putsBefore = writes();
    expect(await bot.stop()).toBe(0);
    const first = bot;
    bot = await startBot(configPath);
    const placed = await bot.waitForLog('discord: slash commands in place');
    expect(placed.changed).toBe(false);
    expect(writes()).toBe(putsBefore);
    const asked = discord.say(discord.world.alice, '!status 3.x');
    await discord.waitFor('a reply from the restarted bot', () => discord.repliesTo(asked.id).length > 0);
    expect(discord.posts(discord.world.announceChannel.id)).toHaveLength(posted);

    for (const run of [first, bot]) {
      const output = [
        ...run.logs.map((l) => JSON.stringify(l)),
        ...run.stderrText,
        ...run.stdout.map((l) => l.text),
      ];
      expect(output.join('\n')).not.toContain(discord.token);
    }
    // Every endpoint discord.js used exists in the stand-in.
    expect(discord.rest.unknown).toEqual([]);
  });
});
