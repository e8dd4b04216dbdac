import type { MessageEvent } from 'irc-framework';
import type { Adapter, AdapterServices, IncomingMessage, Sender } from '../../src/chat/adapter.js';
import type { Message } from '../../src/chat/render-kit.js';
import { IrcConnection, readTlsFiles } from './connection.js';
import { identityOf } from './identity.js';
import { commandLine } from './incoming.js';
import type { IrcAdapterConfig } from './options.js';
import { renderIrc } from './render.js';
import { sanitize } from './sanitize.js';

type Log = AdapterServices['log'];

/** Commands one person may have waiting or running at once; more are ignored (logged). */
const MAX_PER_SENDER = 2;
/** Commands waiting in one room (channel or private conversation); more are ignored. */
const MAX_PER_ROOM = 10;
/** A destination or reply target the adapter will write into a line: a channel or a nick. */
const TARGET = /^[^\s,:\x00-\x1f\x7f][^\s,\x00-\x1f\x7f]*$/;

interface Room {
  /** Commands in this room are answered one after another, in the order they were asked. */
  chain: Promise<void>;
  waiting: number;
  /** Who asked the command being answered now (long channel replies go to them privately). */
  asker: string | undefined;
}

/**
 * The IRC adapter: `!cmd`, `<nick>: cmd`, `<nick>, cmd` and private messages in; announcements and
 * replies out as compact IRC lines, flood-controlled, never longer than IRC allows, with nothing
 * from build data or chat able to break a line. Senders are identified by their services account
 * (`irc:<account>`), never by their nick.
 */
export class IrcAdapter implements Adapter {
  readonly platform = 'irc';
  readonly lineLimit: number;
  private connection: IrcConnection | undefined;
  private log: Log | undefined;
  private onMessage: ((message: IncomingMessage) => Promise<void>) | undefined;
  private readonly rooms = new Map<string, Room>();
  private readonly busy = new Map<string, number>();
  /** Times of recent announcements per channel, to notice a burst. */
  private readonly recent = new Map<string, number[]>();

  constructor(
    private readonly config: IrcAdapterConfig,
    private readonly now: () => number = Date.now,
  ) {
    this.lineLimit = config.reply_lines;
  }

  async start(
    onMessage: (message: IncomingMessage) => Promise<void>,
    services: AdapterServices,
  ): Promise<void> {
    this.onMessage = onMessage;
    this.log = services.log;
    this.connection = new IrcConnection(
      this.config,
      readTlsFiles(this.config),
      services.log,
      (e) => this.incoming(e),
      // What waited for the network (or for a channel) goes out now.
      () => services.connected?.(),
    );
    // Connecting goes on in the background: announcements wait in the core's outbox meanwhile.
    this.connection.start();
  }

  isConnected(): boolean {
    return this.connection?.ready === true;
  }

  async stop(): Promise<void> {
    await this.connection?.stop();
  }

  async send(room: string, message: Message): Promise<void> {
    const connection = this.connection;
    const target = room.startsWith('irc:') ? room.slice(4) : '';
    if (!TARGET.test(target))
      throw new Error(`'${room}' is not an IRC destination (irc:#channel or irc:nick)`);
    if (!connection?.ready) throw new Error('not connected to the IRC server');
    const channel = connection.isChannel(target);
    if (channel && !connection.roster.isJoined(target)) {
      // Announced to but not configured: joined now; the outbox tries again shortly.
      connection.want(target);
      throw new Error(`not in ${target} (yet)`);
    }
    const lines =
      message.kind === 'announcement'
        ? this.announcement(connection, target, message)
        : this.reply(connection, target, message);
    // An announcement counts as sent once the server has it: the outbox sends it again otherwise.
    // A reply is for someone waiting now; one lost to a dropped connection is asked again.
    if (message.kind === 'announcement') await connection.writeConfirmed(lines);
    else await connection.write(lines);
    this.log?.debug({ room, kind: message.kind, lines: lines.length }, 'IRC message sent');
  }

  private announcement(connection: IrcConnection, target: string, message: Message): string[] {
    const command = this.config.announce_as === 'notice' ? 'NOTICE' : 'PRIVMSG';
    // In a burst (many builders turning red at once) each announcement is its headline alone.
    const compact = connection.isChannel(target) && this.inBurst(connection.fold(target));
    const lines = renderIrc(compact ? { ...message, lines: [] } : message, {
      colours: this.config.colours,
      maxBytes: connection.budget(target, command),
      maxLines: compact ? 1 : this.config.announce_lines,
    });
    return lines.map((line) => `${command} ${target} :${line}`);
  }

  private reply(connection: IrcConnection, target: string, message: Message): string[] {
    const cap = Math.max(this.config.reply_lines * 2, this.config.channel_reply_lines);
    const render = (to: string, maxLines: number) =>
      renderIrc(message, {
        colours: this.config.colours,
        maxBytes: connection.budget(to, 'PRIVMSG'),
        maxLines,
      });
    if (!connection.isChannel(target)) return render(target, cap).map((l) => `PRIVMSG ${target} :${l}`);
    const here = render(target, cap);
    const asker = this.rooms.get(connection.fold(target))?.asker;
    if (here.length <= this.config.channel_reply_lines || !asker || !TARGET.test(asker)) {
      return here.slice(0, this.config.channel_reply_lines).map((l) => `PRIVMSG ${target} :${l}`);
    }
    const privately = render(asker, cap);
    const pointer = `${sanitize(asker)}: the answer has ${privately.length} lines; I sent it to you in a private message.`;
    return [`PRIVMSG ${target} :${pointer}`, ...privately.map((l) => `PRIVMSG ${asker} :${l}`)];
  }

  private inBurst(channel: string): boolean {
    if (this.config.compact_after === 0) return false;
    const now = this.now();
    const times = (this.recent.get(channel) ?? []).filter((t) => now - t < this.config.compact_window);
    times.push(now);
    this.recent.set(channel, times);
    return times.length > this.config.compact_after;
  }

  private incoming(event: MessageEvent): void {
    const connection = this.connection;
    const nick = event.nick;
    if (
      !connection ||
      !nick ||
      event.from_server ||
      connection.fold(nick) === connection.fold(connection.nick)
    )
      return;
    const direct = !connection.isChannel(event.target);
    const line = commandLine(event.message, {
      nicks: [connection.nick, this.config.nick],
      direct,
      fold: connection.fold,
    });
    if (!line) return;
    const where = direct ? nick : (connection.roster.nameOf(event.target) ?? event.target);
    const room = `irc:${where}`;
    const roomKey = connection.fold(where);
    const who = connection.fold(nick);
    const state = this.rooms.get(roomKey) ?? { chain: Promise.resolve(), waiting: 0, asker: undefined };
    const busy = this.busy.get(who) ?? 0;
    if (busy >= MAX_PER_SENDER || state.waiting >= MAX_PER_ROOM) {
      this.log?.info({ nick, room }, 'IRC command ignored: too many waiting');
      return;
    }
    // Channel operator status is the server's word about this connection, as of now.
    const operator = !direct && this.config.ops_operate && connection.roster.isOperator(event.target, nick);
    this.busy.set(who, busy + 1);
    state.waiting++;
    this.rooms.set(roomKey, state);
    const handle = async () => {
      const account = await connection.accountOf(event);
      const sender: Sender = {
        ...identityOf(account, connection.fold),
        name: nick,
        ...(operator ? { platformGrants: ['operate' as const] } : {}),
      };
      this.log?.debug({ nick, identity: sender.identity, operator, room }, 'IRC command');
      state.asker = nick;
      await this.onMessage?.({
        platform: 'irc',
        room,
        sender,
        text: line.text,
        isDirect: direct,
        addressed: line.addressed,
      });
    };
    state.chain = state.chain
      .then(handle)
      .catch((err: unknown) => this.log?.error({ room, err: String(err) }, 'IRC command failed'))
      .finally(() => {
        state.asker = undefined;
        state.waiting--;
        if (state.waiting === 0) this.rooms.delete(roomKey);
        const left = (this.busy.get(who) ?? 1) - 1;
        if (left > 0) this.busy.set(who, left);
        else this.busy.delete(who);
      });
  }
}
