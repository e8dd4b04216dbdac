/**
 * A group's message edited on Discord (issue 17): the real Discord adapter (unmodified discord.js
 * underneath) against the stand-in, which lets only a message's author edit it, in its channel.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { DiscordAdapter } from '../../adapters/discord/discord.js';
import type { Message } from '../../src/messages/message.js';
import { type FakeDiscord, startFakeDiscord } from '../support/discord/fake-discord.js';
import { testServices } from '../support/matrix/services.js';

let discord: FakeDiscord;
let adapter: DiscordAdapter;

beforeAll(async () => {
  discord = await startFakeDiscord();
  adapter = new DiscordAdapter({
    token: discord.token,
    prefixCommands: false,
    slashCommands: false,
    lineLimit: 20,
    api: discord.apiUrl,
  });
  await adapter.start(async () => {}, testServices().services);
  await discord.waitFor('the bot to be connected', () => adapter.isConnected());
});

afterAll(async () => {
  await adapter?.stop();
  await discord?.close();
});

const headline: Message = {
  kind: 'announcement',
  tone: 'failure',
  title: ['AMD64 Debian root 3.x #12 turned red: failed test (failure)'],
  lines: [],
};
const group: Message = {
  kind: 'announcement',
  tone: 'failure',
  title: [{ text: 'test_ssl.test_x', code: true }, ' failed on 2 builders (3.x): AssertionError: 1 != 2'],
  lines: [['AMD64 Debian root 3.x #12'], ['PPC64LE RHEL8 3.x #40 @everyone']],
};

it('send gives the message id; edit replaces its embed, pinging nobody', async () => {
  const channel = discord.world.announceChannel.id;
  const ref = await adapter.send(`discord:${channel}`, headline);
  const posts = discord.posts(channel);
  const posted = posts.at(-1);
  expect(ref).toBe(posted?.id);
  await adapter.edit(`discord:${channel}`, ref as string, group);
  const edited = discord.posts(channel).find((m) => m.id === ref);
  expect(edited?.edits).toBe(1);
  expect(edited?.embeds[0]?.title).toBe(
    'test\\_ssl.test\\_x failed on 2 builders (3.x): AssertionError: 1 != 2',
  );
  expect(edited?.embeds[0]?.description).toContain('PPC64LE RHEL8 3.x #40');
  expect(edited?.allowedMentions).toEqual({ parse: [] });
  // Nothing new in the channel: the same message, edited.
  expect(discord.posts(channel)).toHaveLength(posts.length);
});

it("a message that is not the bot's, or not there, is not edited", async () => {
  const channel = discord.world.announceChannel.id;
  const theirs = discord.say(discord.world.alice, 'hello', discord.world.announceChannel);
  await expect(adapter.edit(`discord:${channel}`, theirs.id, group)).rejects.toThrow(/another user/);
  await expect(adapter.edit(`discord:${channel}`, '123456789012345678', group)).rejects.toThrow(
    /Unknown Message/,
  );
});
