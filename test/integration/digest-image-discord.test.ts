/**
 * The digest's chart on Discord: the real Discord adapter (unmodified discord.js underneath)
 * against the stand-in, which reads multipart bodies as Discord does (`payload_json` and
 * `files[n]`). A scheduled digest and a /report answer arrive with the PNG attached and shown in
 * the embed; malformed uploads are refused.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DiscordAdapter } from '../../adapters/discord/discord.js';
import type { CommandInfo } from '../../src/chat/command.js';
import type { Message } from '../../src/messages/message.js';
import { digestMessage } from '../support/digest.js';
import { type FakeDiscord, type StoredMessage, startFakeDiscord } from '../support/discord/fake-discord.js';
import { testServices } from '../support/matrix/services.js';

let discord: FakeDiscord;
let adapter: DiscordAdapter;

const report: CommandInfo = { name: 'report', summary: 'the digest', usage: '', permission: 'read' };
/** Answered after Discord's deferral: the picture comes with the edit of the deferred reply. */
const slow: CommandInfo = {
  name: 'slowreport',
  summary: 'the digest, slowly',
  usage: '',
  permission: 'read',
};

beforeAll(async () => {
  discord = await startFakeDiscord();
  adapter = new DiscordAdapter({
    token: discord.token,
    prefixCommands: false,
    slashCommands: true,
    lineLimit: 20,
    api: discord.apiUrl,
  });
  const t = testServices();
  await adapter.start(
    async (m) => {
      if (m.text.startsWith('slowreport')) await new Promise((r) => setTimeout(r, 1500));
      await adapter.send(m.room, digestMessage('reply'));
    },
    { ...t.services, commands: [report, slow] },
  );
  await discord.waitFor('the bot to be connected', () => adapter.isConnected());
  await discord.waitFor('/report to be registered', () =>
    discord.commandsOf().some((c) => c.json.name === 'slowreport'),
  );
});

afterAll(async () => {
  await adapter?.stop();
  await discord?.close();
});

const png = (m: Message) => Buffer.from(m.image?.data ?? '', 'base64');

function expectChart(stored: StoredMessage, message: Message): void {
  expect(stored.attachments).toHaveLength(1);
  const [file] = stored.attachments;
  expect(file?.filename).toBe('red-builders.png');
  expect(file?.contentType).toBe('image/png');
  expect(file?.description).toBe(message.image?.alt);
  expect(file?.data.equals(png(message))).toBe(true);
  expect(stored.embeds[0]?.image).toEqual({ url: 'attachment://red-builders.png' });
  // The text is all there too.
  expect(stored.embeds[0]?.title).toMatch(/^Digest, last 7 days/);
}

describe('the digest on Discord', () => {
  it('posts a scheduled digest as multipart with the PNG, shown in the embed, and once on a resend', async () => {
    const channel = discord.world.announceChannel.id;
    const message = digestMessage('announcement');
    const before = discord.rest.requests.length;
    await adapter.send(`discord:${channel}`, message);
    const posts = discord.posts(channel);
    expect(posts).toHaveLength(1);
    expectChart(posts[0] as StoredMessage, message);
    const request = discord.rest.requests
      .slice(before)
      .find((r) => r.method === 'POST' && r.path === `/channels/${channel}/messages`);
    expect(request?.contentType).toMatch(/^multipart\/form-data; boundary=/);
    expect(request?.files).toEqual([
      { index: 0, filename: 'red-builders.png', contentType: 'image/png', size: png(message).length },
    ]);
    expect(request?.body).toMatchObject({
      attachments: [{ id: 0, filename: 'red-builders.png', description: message.image?.alt }],
      enforce_nonce: true,
    });
    // As the outbox would after a lost answer: the same message again, the same nonce, one post.
    await adapter.send(`discord:${channel}`, JSON.parse(JSON.stringify(message)) as Message);
    expect(discord.posts(channel)).toHaveLength(1);
  });

  it('answers /report with the chart attached to the reply', async () => {
    const answer = await discord.answer(discord.command(discord.world.alice, 'report'));
    expect(answer.ephemeral).toBe(false);
    expectChart(answer.message, digestMessage('reply'));
  });

  it('answers a slow /report by editing the deferred reply, the chart attached to the edit', async () => {
    const answer = await discord.answer(discord.command(discord.world.alice, 'slowreport'));
    expect(answer.deferred).toBe(true);
    expect(answer.message.edits).toBe(1);
    expectChart(answer.message, digestMessage('reply'));
  });

  it('sends a message without an image as plain JSON, without attachments', async () => {
    const channel = discord.world.announceChannel.id;
    const before = discord.rest.requests.length;
    await adapter.send(`discord:${channel}`, { kind: 'announcement', lines: [['no picture']] });
    const request = discord.rest.requests.slice(before).find((r) => r.method === 'POST');
    expect(request?.contentType).toBe('application/json');
    expect(request?.files).toBeUndefined();
    expect(discord.posts(channel).at(-1)?.attachments).toEqual([]);
  });
});

describe('the stand-in reads multipart as Discord does', () => {
  const boundary = 'xYzBoUnDaRy';
  const part = (headers: string, data: string | Buffer) =>
    Buffer.concat([
      Buffer.from(`--${boundary}\r\n${headers}\r\n\r\n`),
      Buffer.from(data),
      Buffer.from('\r\n'),
    ]);
  const payload = (body: unknown) =>
    part('Content-Disposition: form-data; name="payload_json"', JSON.stringify(body));
  const file = (name: string, data: Buffer, field = 'files[0]') =>
    part(
      `Content-Disposition: form-data; name="${field}"; filename="${name}"\r\nContent-Type: image/png`,
      data,
    );
  const end = Buffer.from(`--${boundary}--\r\n`);
  const bytes = Buffer.from([0x89, 0x50, 0x4e, 0x47, 1, 2, 3]);

  async function post(body: Buffer): Promise<{ status: number; json: unknown }> {
    const res = await fetch(`${discord.apiUrl}/v10/channels/${discord.world.announceChannel.id}/messages`, {
      method: 'POST',
      headers: {
        authorization: `Bot ${discord.token}`,
        'content-type': `multipart/form-data; boundary=${boundary}`,
      },
      body,
    });
    return { status: res.status, json: await res.json() };
  }

  const embed = (url: string) => ({ embeds: [{ title: 't', image: { url } }] });

  it('takes a well-formed one and stores the file', async () => {
    const ok = await post(
      Buffer.concat([
        payload({ ...embed('attachment://c.png'), attachments: [{ id: 0 }] }),
        file('c.png', bytes),
        end,
      ]),
    );
    expect(ok.status).toBe(200);
    expect(ok.json).toMatchObject({ attachments: [{ filename: 'c.png', size: bytes.length }] });
    expect(discord.posts(discord.world.announceChannel.id).at(-1)?.attachments[0]?.data.equals(bytes)).toBe(
      true,
    );
  });

  it('refuses malformed ones', async () => {
    const cases: Array<[string, Buffer, number]> = [
      ['no closing boundary', Buffer.concat([payload({ content: 'x' }), file('c.png', bytes)]), 400],
      [
        'payload_json not JSON',
        Buffer.concat([part('Content-Disposition: form-data; name="payload_json"', '{'), end]),
        400,
      ],
      [
        'an unknown field',
        Buffer.concat([payload({ content: 'x' }), file('c.png', bytes, 'photo'), end]),
        400,
      ],
      ['a file without a name', Buffer.concat([payload({ content: 'x' }), file('', bytes), end]), 400],
      ['an empty file', Buffer.concat([payload({ content: 'x' }), file('c.png', Buffer.alloc(0)), end]), 400],
      [
        'an embed image that is not attached',
        Buffer.concat([payload(embed('attachment://d.png')), file('c.png', bytes), end]),
        400,
      ],
      [
        'attachments naming a missing part',
        Buffer.concat([payload({ content: 'x', attachments: [{ id: 1 }] }), file('c.png', bytes), end]),
        400,
      ],
      [
        'a file over 10 MiB',
        Buffer.concat([payload({ content: 'x' }), file('c.png', Buffer.alloc(10 * 1024 * 1024 + 1, 1)), end]),
        413,
      ],
    ];
    const count = discord.posts(discord.world.announceChannel.id).length;
    for (const [what, body, status] of cases) {
      const answer = await post(body);
      expect({ what, status: answer.status }).toEqual({ what, status });
    }
    expect(discord.posts(discord.world.announceChannel.id)).toHaveLength(count);
  });
});
