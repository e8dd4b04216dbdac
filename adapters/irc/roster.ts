import type { Fold } from './casemap.js';

/** Channel modes that make someone a channel operator or more (op, admin, founder). */
const OPERATOR_MODES = new Set(['o', 'a', 'q']);

interface Channel {
  name: string;
  /** folded nick → prefix modes (o, v, ...). */
  members: Map<string, Set<string>>;
}

/**
 * The channels the bot is in and who holds which prefix mode there, from NAMES, JOIN, PART,
 * KICK, QUIT, NICK and MODE. The server is the only source: nothing here comes from a nick's say-so.
 */
export class Roster {
  private readonly channels = new Map<string, Channel>();

  constructor(private fold: Fold) {}

  setFold(fold: Fold): void {
    this.fold = fold;
  }

  /** The bot joined. */
  joined(channel: string): void {
    this.channels.set(this.fold(channel), { name: channel, members: new Map() });
  }

  /** The bot left or was kicked. */
  parted(channel: string): void {
    this.channels.delete(this.fold(channel));
  }

  isJoined(channel: string): boolean {
    return this.channels.has(this.fold(channel));
  }

  /** The channel's name as the server spells it, when we are in it. */
  nameOf(channel: string): string | undefined {
    return this.channels.get(this.fold(channel))?.name;
  }

  joinedChannels(): string[] {
    return [...this.channels.values()].map((c) => c.name);
  }

  names(channel: string, users: ReadonlyArray<{ nick: string; modes: readonly string[] }>): void {
    const chan = this.channels.get(this.fold(channel));
    if (!chan) return;
    for (const u of users) chan.members.set(this.fold(u.nick), new Set(u.modes));
  }

  join(channel: string, nick: string): void {
    this.channels.get(this.fold(channel))?.members.set(this.fold(nick), new Set());
  }

  part(channel: string, nick: string): void {
    this.channels.get(this.fold(channel))?.members.delete(this.fold(nick));
  }

  quit(nick: string): void {
    for (const chan of this.channels.values()) chan.members.delete(this.fold(nick));
  }

  renamed(from: string, to: string): void {
    for (const chan of this.channels.values()) {
      const modes = chan.members.get(this.fold(from));
      if (!modes) continue;
      chan.members.delete(this.fold(from));
      chan.members.set(this.fold(to), modes);
    }
  }

  /** A MODE change such as `+o nick` or `-v nick`. */
  mode(channel: string, change: string, nick: string): void {
    const modes = this.channels.get(this.fold(channel))?.members.get(this.fold(nick));
    if (!modes || change.length !== 2) return;
    const letter = change[1] as string;
    if (change[0] === '+') modes.add(letter);
    else if (change[0] === '-') modes.delete(letter);
  }

  isOperator(channel: string, nick: string): boolean {
    const modes = this.channels.get(this.fold(channel))?.members.get(this.fold(nick));
    return modes !== undefined && [...modes].some((m) => OPERATOR_MODES.has(m));
  }

  clear(): void {
    this.channels.clear();
  }
}
