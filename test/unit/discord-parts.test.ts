import { describe, expect, it } from 'vitest';
import { LoginGuard } from '../../adapters/discord/login-guard.js';
import { interactionRoom, parseRoom, replyRoom } from '../../adapters/discord/rooms.js';
import { senderOf } from '../../adapters/discord/sender.js';
import type { KeyValueStore } from '../../src/chat/adapter.js';

function memoryStore(): KeyValueStore {
  const values = new Map<string, string>();
  return { get: (k) => values.get(k), set: (k, v) => void values.set(k, v) };
}

describe('Discord destinations', () => {
  it('name a channel, a reply to a message, or a slash command being answered', () => {
    expect(parseRoom('discord:123456789012345678')).toEqual({ channelId: '123456789012345678' });
    expect(parseRoom(replyRoom('1', '2'))).toEqual({ channelId: '1', replyTo: '2' });
    expect(parseRoom(interactionRoom('1', '3'))).toEqual({ channelId: '1', interactionId: '3' });
  });

  it('refuse anything else with a hint', () => {
    for (const room of ['discord:#general', 'discord:', 'irc:#x', 'discord:1#thread:2']) {
      expect(() => parseRoom(room)).toThrow(/not a Discord destination \(write discord:<channel id>\)/);
    }
  });
});

describe('Discord senders', () => {
  it('are their user id, with the member role ids and @everyone (the guild id)', () => {
    const sender = senderOf(
      { id: '10', username: 'alice', globalName: 'Alice' },
      { roles: ['20', '21'] },
      '99',
    );
    expect(sender).toEqual({
      identity: 'discord:user:10',
      name: 'Alice',
      roles: ['discord:role:20', 'discord:role:21', 'discord:role:99'],
    });
  });

  it('read roles from a cached member too, and show the display name without control characters', () => {
    const member = {
      roles: {
        cache: new Map([
          ['99', {}],
          ['30', {}],
        ]),
      },
      displayName: 'ci\nadmin',
    };
    const sender = senderOf({ id: '10', username: 'mallory' }, member, '99');
    expect(sender.roles).toEqual(['discord:role:99', 'discord:role:30']);
    expect(sender.name).toBe('ci admin');
    expect(sender.identity).toBe('discord:user:10');
  });
});

describe('Discord logins across restarts', () => {
  it('allow 6 in 10 minutes, then wait until the oldest is 10 minutes old', () => {
    let now = 1_000_000;
    const state = memoryStore();
    const guard = () => new LoginGuard(state, { now: () => now }); // a new process each time
    for (let i = 0; i < 6; i++) {
      expect(guard().delayMs()).toBe(0);
      guard().record();
      now += 10_000;
    }
    // The first of the six was 60 s ago: the next may come 540 s from now.
    expect(guard().delayMs()).toBe(540_000);
    now += 540_000;
    expect(guard().delayMs()).toBe(0);
  });

  it('survive a damaged record', () => {
    const state = memoryStore();
    state.set('logins', 'not json');
    expect(new LoginGuard(state).delayMs()).toBe(0);
  });
});
