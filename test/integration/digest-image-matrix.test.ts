/**
 * The digest's chart on Matrix: the real Matrix adapter (unmodified matrix-js-sdk underneath)
 * against the stand-in homeserver. The PNG goes to the content repository, then an m.image event
 * referring to its mxc:// URI follows the digest's notice; a retry posts neither event twice.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MatrixAdapter } from '../../adapters/matrix/matrix.js';
import type { Message } from '../../src/messages/message.js';
import { digestMessage } from '../support/digest.js';
import { type Homeserver, inReplyTo, startHomeserver } from '../support/matrix/homeserver.js';
import { testServices } from '../support/matrix/services.js';

const TOKEN = 'syt_bot_token_0123456789';
let hs: Homeserver;
let bot: string;
let alice: string;
let room: string;
let adapter: MatrixAdapter | undefined;

const png = (m: Message) => Buffer.from(m.image?.data ?? '', 'base64');

beforeEach(async () => {
  hs = await startHomeserver();
  bot = hs.addUser('bbwatch', { token: TOKEN });
  alice = hs.addUser('alice', { displayName: 'Alice' });
  room = hs.createRoom(alice, { alias: '#ci:hs.test' });
});

afterEach(async () => {
  await adapter?.stop();
  adapter = undefined;
  await hs.close();
});

async function start(): Promise<MatrixAdapter> {
  const t = testServices();
  const started = new MatrixAdapter({
    homeserver: hs.url,
    userId: bot,
    accessToken: TOKEN,
    rooms: ['#ci:hs.test'],
    invitesFrom: [alice],
  });
  adapter = started;
  await started.start(async (m) => {
    await started.send(m.room, digestMessage('reply'));
  }, t.services);
  await t.waitForLog('Matrix rooms ready');
  return started;
}

function expectImage(content: Record<string, unknown>, message: Message): string {
  const bytes = png(message);
  expect(content).toMatchObject({
    msgtype: 'm.image',
    body: message.image?.alt,
    info: { mimetype: 'image/png', size: bytes.length, w: 400, h: 120 },
    'm.mentions': {},
  });
  const uri = String(content.url);
  expect(uri).toMatch(/^mxc:\/\/hs\.test\/\w+$/);
  const media = hs.mediaAt(uri);
  expect(media?.data.equals(bytes)).toBe(true);
  expect(media).toMatchObject({ uploader: bot, contentType: 'image/png', filename: 'red-builders.png' });
  return uri;
}

describe('the digest on Matrix', () => {
  it('uploads the chart and posts it as m.image after the notice, once even when sent again', async () => {
    const a = await start();
    const message = digestMessage('announcement');
    await a.send('matrix:#ci:hs.test', message);
    const sent = hs.messagesFrom(bot, room);
    expect(sent.map((e) => e.content.msgtype)).toEqual(['m.notice', 'm.image']);
    expect(String(sent[0]?.content.body)).toMatch(/^Digest, last 7 days/);
    expectImage(sent[1]?.content ?? {}, message);
    const upload = hs.requests.find((r) => r.path === '/_matrix/media/v3/upload');
    expect(upload).toMatchObject({
      method: 'POST',
      userId: bot,
      status: 200,
      query: { filename: 'red-builders.png' },
    });
    // As the outbox does after a lost answer: the same message again is recognised, nothing new in the room.
    await a.send('matrix:#ci:hs.test', JSON.parse(JSON.stringify(message)) as Message);
    expect(hs.messagesFrom(bot, room)).toHaveLength(2);
    expect(hs.unknownRequests.map((r) => `${r.method} ${r.path}`)).toEqual([]);
  });

  it('answers !report with the notice as a reply, then the picture', async () => {
    await start();
    const asked = hs.say(alice, room, '!report');
    const answer = await hs.waitForReply(room, asked);
    expect(answer.content.msgtype).toBe('m.notice');
    const image = await hs.waitForEvent(room, (e) => e.sender === bot && e.content.msgtype === 'm.image');
    expect(image.pos).toBeGreaterThan(answer.pos);
    expect(inReplyTo(image)).toBeUndefined();
    expectImage(image.content, digestMessage('reply'));
  });

  it('fails the send when the homeserver refuses the upload (413), and a retry adds only the picture', async () => {
    const a = await start();
    const message = digestMessage('announcement');
    hs.maxUploadBytes = 100;
    await expect(a.send('matrix:#ci:hs.test', message)).rejects.toThrow();
    expect(hs.requests.find((r) => r.path === '/_matrix/media/v3/upload')?.status).toBe(413);
    expect(hs.messagesFrom(bot, room).map((e) => e.content.msgtype)).toEqual(['m.notice']);
    hs.maxUploadBytes = 1_000_000;
    await a.send('matrix:#ci:hs.test', message);
    expect(hs.messagesFrom(bot, room).map((e) => e.content.msgtype)).toEqual(['m.notice', 'm.image']);
  });
});

describe('the stand-in content repository', () => {
  it('wants an access token to upload and download, and serves what was uploaded', async () => {
    const bytes = Buffer.from([1, 2, 3, 4]);
    const anonymous = await fetch(`${hs.url}/_matrix/media/v3/upload?filename=a.png`, {
      method: 'POST',
      headers: { 'content-type': 'image/png' },
      body: bytes,
    });
    expect(anonymous.status).toBe(401);
    expect(((await anonymous.json()) as { errcode: string }).errcode).toBe('M_MISSING_TOKEN');
    const auth = { authorization: `Bearer ${TOKEN}` };
    const up = await fetch(`${hs.url}/_matrix/media/v3/upload?filename=a.png`, {
      method: 'POST',
      headers: { ...auth, 'content-type': 'image/png' },
      body: bytes,
    });
    const { content_uri: uri } = (await up.json()) as { content_uri: string };
    const path = `${hs.url}/_matrix/client/v1/media/download/${uri.slice('mxc://'.length)}`;
    expect((await fetch(path)).status).toBe(401);
    const down = await fetch(path, { headers: auth });
    expect(down.headers.get('content-type')).toBe('image/png');
    expect(Buffer.from(await down.arrayBuffer()).equals(bytes)).toBe(true);
    hs.maxUploadBytes = 3;
    const big = await fetch(`${hs.url}/_matrix/media/v3/upload`, {
      method: 'POST',
      headers: auth,
      body: bytes,
    });
    expect(big.status).toBe(413);
    expect(((await big.json()) as { errcode: string }).errcode).toBe('M_TOO_LARGE');
  });
});
