import { describe, expect, it } from 'vitest';
import { foldFor, isChannel } from '../../adapters/irc/casemap.js';
import { AccountBook, accountOf, identityOf } from '../../adapters/irc/identity.js';
import { commandLine } from '../../adapters/irc/incoming.js';
import { Roster } from '../../adapters/irc/roster.js';
import { isAllowed } from '../../src/chat/permissions.js';

const fold = foldFor('rfc1459');
const grants = { operate: ['irc:alice'], force: ['irc:alice'] };
const TAG = { accountTag: true, extendedJoin: true, accountNotify: true };
const NO_TAG = { accountTag: false, extendedJoin: true, accountNotify: true };
const NOTHING = { accountTag: false, extendedJoin: false, accountNotify: false };

/** May this sender, as the adapter identifies them, operate? */
function mayOperate(account: string | null | undefined, platformGrants?: Array<'operate'>): boolean {
  return isAllowed(
    grants,
    { ...identityOf(account, fold), name: 'x', ...(platformGrants ? { platformGrants } : {}) },
    'operate',
  );
}

describe('IRC identity', () => {
  it('takes the account from the message tag when the server tags messages', () => {
    const book = new AccountBook(fold);
    book.seen('alice', '#c', 'alice');
    expect(accountOf('alice', 'alice', TAG, book)).toBe('alice');
    // The book says alice, but this message carries no tag: not logged in, whatever the nick.
    expect(accountOf(undefined, 'alice', TAG, book)).toBeNull();
    expect(accountOf('*', 'alice', TAG, book)).toBeNull();
  });

  it('a nick alone grants nothing; the account does, whatever the nick', () => {
    expect(mayOperate(accountOf(undefined, 'alice', TAG, new AccountBook(fold)))).toBe(false);
    expect(mayOperate(accountOf('mallory', 'alice', TAG, new AccountBook(fold)))).toBe(false);
    expect(mayOperate(accountOf('alice', 'somebody_else', TAG, new AccountBook(fold)))).toBe(true);
  });

  it('matches the account case-insensitively, as services do', () => {
    expect(identityOf('Alice', fold)).toEqual({ identity: 'irc:Alice', roles: ['irc:alice'] });
    expect(mayOperate('Alice')).toBe(true);
    expect(identityOf(null, fold)).toEqual({ identity: undefined });
  });

  it('a channel operator grant works without an identity, and only as granted', () => {
    expect(mayOperate(null, ['operate'])).toBe(true);
    expect(isAllowed(grants, { identity: undefined, name: 'op', platformGrants: ['operate'] }, 'force')).toBe(
      false,
    );
  });

  it('without account-tag, follows extended-join, account-notify and WHOX', () => {
    const book = new AccountBook(fold);
    book.seen('Alice', '#c', 'alice'); // extended-join
    book.seen('bob', '#c', null); // extended-join, not logged in
    book.seen('carol', '#c', undefined); // NAMES: unknown until WHOX
    expect(accountOf(undefined, 'ALICE', NO_TAG, book)).toBe('alice');
    expect(accountOf(undefined, 'bob', NO_TAG, book)).toBeNull();
    expect(accountOf(undefined, 'carol', NO_TAG, book)).toBeUndefined();
    book.seen('carol', '#c', 'carol'); // WHOX
    expect(accountOf(undefined, 'carol', NO_TAG, book)).toBe('carol');

    book.setAccount('alice', null); // logged out
    expect(accountOf(undefined, 'alice', NO_TAG, book)).toBeNull();
    book.setAccount('bob', 'bob');
    book.renamed('bob', 'robert');
    expect(accountOf(undefined, 'robert', NO_TAG, book)).toBe('bob');
    expect(accountOf(undefined, 'bob', NO_TAG, book)).toBeUndefined();
  });

  it('forgets whoever we stop sharing a channel with (their account changes would go unseen)', () => {
    const book = new AccountBook(fold);
    book.seen('alice', '#a', 'alice');
    book.seen('alice', '#b', 'alice');
    book.left('alice', '#a');
    expect(book.get('alice')).toBe('alice');
    book.leftChannel('#b');
    expect(book.get('alice')).toBeUndefined();
    book.seen('dave', '#a', 'dave');
    book.quit('dave');
    expect(book.get('dave')).toBeUndefined();
  });

  it('without any account source, says it does not know (the adapter then asks the server)', () => {
    const book = new AccountBook(fold);
    book.seen('alice', '#c', 'alice');
    expect(accountOf('alice', 'alice', NOTHING, book)).toBeUndefined();
    // extended-join without account-notify cannot see logouts: not trusted either.
    expect(accountOf(undefined, 'alice', { ...NOTHING, extendedJoin: true }, book)).toBeUndefined();
  });
});

describe('IRC channel roster', () => {
  it('knows operators from NAMES and MODE, across nick changes, and forgets on part', () => {
    const roster = new Roster(fold);
    roster.joined('#Lab');
    roster.names('#lab', [
      { nick: 'op', modes: ['o'] },
      { nick: 'voice', modes: ['v'] },
      { nick: 'founder', modes: ['q', 'o'] },
    ]);
    expect(roster.isOperator('#LAB', 'OP')).toBe(true);
    expect(roster.isOperator('#lab', 'voice')).toBe(false);
    expect(roster.isOperator('#lab', 'founder')).toBe(true);
    roster.mode('#lab', '+o', 'voice');
    roster.mode('#lab', '-o', 'op');
    expect(roster.isOperator('#lab', 'voice')).toBe(true);
    expect(roster.isOperator('#lab', 'op')).toBe(false);
    roster.renamed('voice', 'v2');
    expect(roster.isOperator('#lab', 'v2')).toBe(true);
    expect(roster.isOperator('#lab', 'voice')).toBe(false);
    roster.part('#lab', 'v2');
    expect(roster.isOperator('#lab', 'v2')).toBe(false);
    // Someone who joins later under an operator's old nick is not an operator.
    roster.join('#lab', 'op');
    expect(roster.isOperator('#lab', 'op')).toBe(false);
    expect(roster.nameOf('#lab')).toBe('#Lab');
    roster.parted('#lab');
    expect(roster.isJoined('#lab')).toBe(false);
    expect(roster.isOperator('#lab', 'founder')).toBe(false);
  });
});

describe('IRC commands in chat', () => {
  const opts = { nicks: ['bbwatch_', 'bbwatch'], fold, direct: false };

  it('reads !cmd, <nick>: cmd and <nick>, cmd in a channel, and ignores chatter', () => {
    expect(commandLine('!status 3.x', opts)).toEqual({ text: '!status 3.x', addressed: false });
    expect(commandLine('bbwatch: last AMD64 Debian root 3.x', opts)).toEqual({
      text: 'last AMD64 Debian root 3.x',
      addressed: true,
    });
    expect(commandLine('BBWatch, status', opts)).toEqual({ text: 'status', addressed: true });
    expect(commandLine('bbwatch_:status', opts)).toEqual({ text: 'status', addressed: true });
    expect(commandLine('is bbwatch: broken?', opts)).toBeUndefined();
    expect(commandLine('alice: status', opts)).toBeUndefined();
    expect(commandLine('the build is red', opts)).toBeUndefined();
    expect(commandLine('!', opts)).toBeUndefined();
    expect(commandLine('bbwatch:', opts)).toBeUndefined();
  });

  it('takes every private message as addressed to the bot', () => {
    expect(commandLine('status', { ...opts, direct: true })).toEqual({ text: 'status', addressed: true });
    expect(commandLine('!status', { ...opts, direct: true })).toEqual({ text: '!status', addressed: true });
    expect(commandLine('bbwatch: help', { ...opts, direct: true })).toEqual({
      text: 'help',
      addressed: true,
    });
  });

  it('removes formatting and control characters from what users type', () => {
    expect(commandLine('\x02!status\x0f \x0304red', opts)).toEqual({ text: '!status red', addressed: false });
  });
});

describe('IRC case mapping', () => {
  it('folds as the server says', () => {
    expect(foldFor('rfc1459')('Nick[]\\~')).toBe('nick{}|^');
    expect(foldFor('strict-rfc1459')('Nick~')).toBe('nick~');
    expect(foldFor('ascii')('Nick[]')).toBe('nick[]');
    expect(isChannel('#lab')).toBe(true);
    expect(isChannel('alice')).toBe(false);
    expect(isChannel('+chan', ['#', '+'])).toBe(true);
  });
});
