/**
 * Confirming a tracker suggestion from Discord, end to end: the real CLI with `chat.discord` and a
 * `tracker`, the lab master running CPython's regrtest, the GitHub stand-in searched through
 * @octokit/rest, and the Discord stand-in that the real discord.js talks to. The red build's
 * message carries a button per suggestion ("It's gh-117001"); a click records the known issue as
 * `!known test_ssl_lab gh-117001` does, for someone with the `operate` permission, and is refused
 * (to the clicker alone) for someone without it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type BotProcess, startBot, writeConfig } from '../support/bot.js';
import { type FakeDiscord, type StoredMessage, startFakeDiscord } from '../support/discord/fake-discord.js';
import { type GitHubStandIn, startGitHubStandIn } from '../support/github/server.js';
import { type Lab, startLab } from '../support/lab.js';

const BUILDER = 'AMD64 Debian root 3.x';
const BUTTON = 'bbwatch:run:known test_ssl_lab gh-117001';
const DAY = 86_400_000;

let discord: FakeDiscord;
let hub: GitHubStandIn;
let lab: Lab;
let bot: BotProcess;

/** Everything a user reads in a message: content, titles, descriptions, fields. */
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

beforeAll(async () => {
  discord = await startFakeDiscord({ heartbeatIntervalMs: 5000 });
  hub = await startGitHubStandIn('python/cpython', [
    {
      number: 117_001,
      title: 'test_ssl_lab: ContextTests.test_handshake fails on AMD64 Debian root',
      state: 'open',
      updated_at: new Date(Date.now() - 3 * DAY).toISOString(),
    },
  ]);
  lab = await startLab({ branches: ['3.x'], platforms: ['AMD64 Debian root:stable,tier-1'] });
  await lab.runBuild(BUILDER, 'pass');
  process.env.BBWATCH_TEST_DISCORD_TOKEN = discord.token;
  bot = await startBot(
    writeConfig(`masters:
  - name: lab
    url: ${lab.url}
    stream: ws
    timeout: 5s
storage: ./state.sqlite
chat:
  discord:
    token: \${BBWATCH_TEST_DISCORD_TOKEN}
    api: ${discord.apiUrl}
    prefix_commands: true
announce:
  burst_window: 0
  details: inline # one message, with the suggestions and their buttons
notify:
  - to: discord:${discord.world.announceChannel.id}
    events: [failure]
tracker:
  api_url: ${hub.url}
  timeout: 2s
  wait: 30s # a busy machine reads the log slowly; the test checks what is said, not how fast
permissions:
  operate: ["discord:role:${discord.world.ciRole.id}"]
`),
  );
  await bot.waitForLog('discord: slash commands in place');
});

afterAll(async () => {
  await bot?.stop();
  await lab?.close();
  await hub?.close();
  await discord?.close();
});

describe('a tracker suggestion confirmed from Discord', () => {
  let red: StoredMessage;

  it('puts a button per suggestion under the red build, beside the suggestion itself', async () => {
    const build = await lab.runBuild(BUILDER, 'fail');
    red = await discord.waitFor(
      'the red announcement with its suggestion',
      () =>
        discord
          .posts(discord.world.announceChannel.id)
          .find(
            (m) =>
              (m.embeds[0]?.title ?? '').startsWith(`${BUILDER} #${build.number} turned red`) &&
              shown(m).includes('maybe gh-117001'),
          ),
      120_000,
    );
    expect(shown(red)).toContain('!known test_ssl_lab gh-117001');
    expect(red.components).toEqual([
      { type: 1, components: [{ type: 2, style: 2, label: "It's gh-117001", custom_id: BUTTON }] },
    ]);
  });

  it('refuses, to the clicker alone, someone without the operate permission', async () => {
    const answer = await discord.answer(discord.click(discord.world.alice, red, BUTTON));
    expect(answer.ephemeral).toBe(true);
    expect(shown(answer.message)).toContain("Changing known issues needs the 'operate' permission.");
    const list = await discord.answer(discord.command(discord.world.alice, 'known'));
    expect(shown(list.message)).toContain('No known issues recorded');
  });

  it('records the known issue for someone with it, and says so to the channel', async () => {
    const answer = await discord.answer(discord.click(discord.world.admin, red, BUTTON));
    expect(answer.ephemeral).toBe(false);
    // As Discord shows it: the reply's Markdown escapes the underscores.
    expect(shown(answer.message)).toContain('test\\_ssl\\_lab is now known as gh-117001.');
    const list = await discord.answer(discord.command(discord.world.alice, 'known'));
    expect(shown(list.message)).toMatch(/test_ssl_lab.*gh-117001/);
  });
});
