import type { Sender } from '../../src/chat/adapter.js';
import type { Fold } from './casemap.js';

/**
 * Who is logged in to which services account, as the network told us: from extended-join (JOIN
 * carries the account), account-notify (ACCOUNT when someone logs in or out) and WHOX replies.
 * Only used when the server does not tag each message with its sender's account (account-tag).
 * A nick is forgotten when it quits or leaves the last channel we share, because from then on
 * the server no longer tells us when its account changes.
 */
export class AccountBook {
  /** folded nick → account (null: known not to be logged in) and the channels we share. */
  private readonly users = new Map<string, { account: string | null | undefined; channels: Set<string> }>();

  constructor(private fold: Fold) {}

  setFold(fold: Fold): void {
    this.fold = fold;
  }

  /**
   * The nick is in the channel; `account` is what the source said (a name, null for not logged
   * in, undefined when the source does not say, as NAMES).
   */
  seen(nick: string, channel: string, account: string | null | undefined): void {
    const key = this.fold(nick);
    const user = this.users.get(key) ?? { account: undefined, channels: new Set<string>() };
    user.channels.add(this.fold(channel));
    if (account !== undefined) user.account = account;
    this.users.set(key, user);
  }

  /** account-notify: logged in (a name) or out (null). */
  setAccount(nick: string, account: string | null): void {
    const user = this.users.get(this.fold(nick));
    if (user) user.account = account;
  }

  renamed(from: string, to: string): void {
    const user = this.users.get(this.fold(from));
    if (!user) return;
    this.users.delete(this.fold(from));
    this.users.set(this.fold(to), user);
  }

  left(nick: string, channel: string): void {
    const key = this.fold(nick);
    const user = this.users.get(key);
    if (!user) return;
    user.channels.delete(this.fold(channel));
    if (user.channels.size === 0) this.users.delete(key);
  }

  /** We left the channel: its members are forgotten unless we share another channel with them. */
  leftChannel(channel: string): void {
    for (const [nick] of [...this.users]) this.left(nick, channel);
  }

  quit(nick: string): void {
    this.users.delete(this.fold(nick));
  }

  clear(): void {
    this.users.clear();
  }

  /** The account (null: not logged in), or undefined when we do not know. */
  get(nick: string): string | null | undefined {
    return this.users.get(this.fold(nick))?.account;
  }
}

/** Which of the network's account sources this connection has. */
export interface AccountCaps {
  accountTag: boolean;
  extendedJoin: boolean;
  accountNotify: boolean;
}

/**
 * The services account a message's sender is logged in to: a name, null when the network says
 * they are not logged in, undefined when nothing we have tells (the caller asks the server).
 * With account-tag the tag on the message itself is the only source: it is stateless and cannot
 * go stale. Without it, the book is trusted only when the server keeps it current (extended-join
 * and account-notify both on). The nick itself never counts.
 */
export function accountOf(
  tag: string | undefined,
  nick: string,
  caps: AccountCaps,
  book: Pick<AccountBook, 'get'>,
): string | null | undefined {
  if (caps.accountTag) return tag && tag !== '*' ? tag : null;
  if (caps.extendedJoin && caps.accountNotify) return book.get(nick);
  return undefined;
}

/**
 * The identity for `permissions`: `irc:<account>` as services spell it. Services treat account
 * names case-insensitively, so the folded spelling is vouched for too (as a role), and
 * `irc:alice` in the config matches the account `Alice`.
 */
export function identityOf(
  account: string | null | undefined,
  fold: Fold,
): Pick<Sender, 'identity' | 'roles'> {
  if (!account) return { identity: undefined };
  const identity = `irc:${account}`;
  const folded = `irc:${fold(account)}`;
  return folded === identity ? { identity } : { identity, roles: [folded] };
}
