/** The Matrix adapter's rules, without a homeserver: commands, destinations, invites, power levels, txn ids. */
import { describe, expect, it } from 'vitest';
import { parseDestination, replyDestination } from '../../adapters/matrix/destination.js';
import { readCommand, stripReplyFallback } from '../../adapters/matrix/incoming.js';
import { inviteAllowed } from '../../adapters/matrix/invites.js';
import { transactionId } from '../../adapters/matrix/outgoing.js';
import { grantsFor, powerLevelOf } from '../../adapters/matrix/power.js';
import type { Message } from '../../src/messages/message.js';

const BOT = { userId: '@bbwatch:example.org', displayName: 'BB Watch' };
const text = (body: string, extra: Record<string, unknown> = {}) => ({ msgtype: 'm.text', body, ...extra });

describe('which messages are commands', () => {
  it('takes !commands anywhere, as not addressed (the dispatcher strips the !)', () => {
    expect(readCommand(text('!status 3.x'), BOT, false)).toEqual({ text: '!status 3.x', addressed: false });
  });

  it('ignores ordinary chat in a room', () => {
    expect(readCommand(text('the build is red again'), BOT, false)).toBeUndefined();
    expect(readCommand(text('bbwatch is great'), BOT, false)).toBeUndefined();
  });

  it('takes a leading mention by display name, localpart or user id, and strips it', () => {
    expect(readCommand(text('BB Watch: status 3.x'), BOT, false)).toEqual({
      text: 'status 3.x',
      addressed: true,
    });
    expect(readCommand(text('bbwatch, last foo'), BOT, false)).toEqual({ text: 'last foo', addressed: true });
    expect(readCommand(text('@bbwatch:example.org: help'), BOT, false)).toEqual({
      text: 'help',
      addressed: true,
    });
    expect(readCommand(text('@bbwatch: help'), BOT, false)).toEqual({ text: 'help', addressed: true });
  });

  it('takes a mention followed by a space only when the message carries an intentional mention of the bot', () => {
    const pill = { 'm.mentions': { user_ids: ['@bbwatch:example.org'] } };
    expect(readCommand(text('bbwatch status', pill), BOT, false)).toEqual({
      text: 'status',
      addressed: true,
    });
    expect(readCommand(text('bbwatch status'), BOT, false)).toBeUndefined();
  });

  it('takes everything in a direct chat as addressed to the bot', () => {
    expect(readCommand(text('status'), BOT, true)).toEqual({ text: 'status', addressed: true });
  });

  it('never answers notices (other bots), emotes or edits', () => {
    expect(readCommand({ msgtype: 'm.notice', body: '!status' }, BOT, true)).toBeUndefined();
    expect(readCommand({ msgtype: 'm.emote', body: '!status' }, BOT, false)).toBeUndefined();
    const edit = text('* !status', {
      'm.new_content': text('!status'),
      'm.relates_to': { rel_type: 'm.replace', event_id: '$x' },
    });
    expect(readCommand(edit, BOT, false)).toBeUndefined();
    expect(readCommand({ msgtype: 'm.text', body: 42 }, BOT, false)).toBeUndefined();
  });

  it('reads the command under an old-style reply quote', () => {
    const body = '> <@alice:example.org> the build is red\n> again\n\n!status 3.x';
    expect(stripReplyFallback(body)).toBe('!status 3.x');
    expect(readCommand(text(body), BOT, false)).toEqual({ text: '!status 3.x', addressed: false });
  });
});

describe('destinations', () => {
  it('reads room ids and aliases, and the event a reply answers', () => {
    expect(parseDestination('matrix:#ci:example.org')).toEqual({ room: '#ci:example.org' });
    expect(parseDestination('matrix:!abc:example.org')).toEqual({ room: '!abc:example.org' });
    const reply = replyDestination('!abc:example.org:8448', '$ev#1:x');
    expect(reply).toBe('matrix:!abc:example.org:8448#reply:$ev#1:x');
    expect(parseDestination(reply)).toEqual({ room: '!abc:example.org:8448', replyTo: '$ev#1:x' });
  });

  it('refuses what is not a room', () => {
    expect(() => parseDestination('matrix:general')).toThrow(/not a Matrix room/);
    expect(() => parseDestination('matrix:')).toThrow(/not a Matrix room/);
  });
});

describe('invites', () => {
  const allowed = ['@alice:example.org', 'python.org', ':other.example'];
  it('accepts configured users and anyone on a configured server', () => {
    expect(inviteAllowed('@alice:example.org', allowed)).toBe(true);
    expect(inviteAllowed('@guido:python.org', allowed)).toBe(true);
    expect(inviteAllowed('@x:PYTHON.org', allowed)).toBe(true);
    expect(inviteAllowed('@y:other.example', allowed)).toBe(true);
  });

  it('refuses everyone else, including look-alikes', () => {
    expect(inviteAllowed('@mallory:example.org', allowed)).toBe(false);
    expect(inviteAllowed('@alice:example.org.evil', allowed)).toBe(false);
    expect(inviteAllowed('@x:evilpython.org', allowed)).toBe(false);
    expect(inviteAllowed('@x:python.org.evil', allowed)).toBe(false);
    expect(inviteAllowed('@alice:example.org', [])).toBe(false);
  });
});

describe('power levels', () => {
  const levels = { users: { '@mod:x': 50, '@admin:x': 100 }, users_default: 10 };

  it('reads users and users_default', () => {
    expect(powerLevelOf('@mod:x', levels)).toBe(50);
    expect(powerLevelOf('@someone:x', levels)).toBe(10);
    expect(powerLevelOf('@someone:x', { users: {} })).toBe(0);
  });

  it('gives the creator 100 when the room has no power levels, and infinite power from room version 12', () => {
    const create = { sender: '@creator:x', content: { room_version: '10' } };
    expect(powerLevelOf('@creator:x', undefined, create)).toBe(100);
    expect(powerLevelOf('@other:x', undefined, create)).toBe(0);
    const v12 = { sender: '@creator:x', content: { room_version: '12', additional_creators: ['@co:x'] } };
    expect(powerLevelOf('@co:x', levels, v12)).toBe(Number.POSITIVE_INFINITY);
    expect(powerLevelOf('@mod:x', levels, v12)).toBe(50);
  });

  it('grants what the configured minimum levels reach, nothing without them', () => {
    expect(grantsFor(50, { operate: 50, force: 100 })).toEqual(['operate']);
    expect(grantsFor(100, { operate: 50, force: 100 })).toEqual(['operate', 'force']);
    expect(grantsFor(49, { operate: 50, force: 100 })).toEqual([]);
    expect(grantsFor(Number.POSITIVE_INFINITY, { force: 100 })).toEqual(['force']);
    expect(grantsFor(100, undefined)).toEqual([]);
  });
});

describe('transaction ids', () => {
  const message: Message = { kind: 'announcement', title: ['X #1 turned red'], lines: [] };

  it('are the same for the same message to the same place, so a resend is recognised', () => {
    const again = JSON.parse(JSON.stringify(message)) as Message; // as the outbox stores it
    expect(transactionId('!r:x', again)).toBe(transactionId('!r:x', message));
    expect(transactionId('!r:x', message)).toMatch(/^bbwatch\.[A-Za-z0-9_-]{32}$/);
  });

  it('differ by room, by answered event and by content', () => {
    const ids = new Set([
      transactionId('!r:x', message),
      transactionId('!s:x', message),
      transactionId('!r:x', message, '$a'),
      transactionId('!r:x', message, '$b'),
      transactionId('!r:x', { ...message, title: ['X #2 turned red'] }),
    ]);
    expect(ids.size).toBe(5);
  });
});
