import { readFileSync } from 'node:fs';
import irc, { type Client, type MessageEvent } from 'irc-framework';
import type { AdapterServices } from '../../src/chat/adapter.js';
import { backoffDelay } from '../../src/chat/retry.js';
import { type Fold, foldFor, isChannel } from './casemap.js';
import { AccountBook, type AccountCaps, accountOf } from './identity.js';
import { Confirmations } from './confirm.js';
import { clientOptions, type IrcAdapterConfig, portOf } from './options.js';
import { lineBudget } from './render.js';
import { Roster } from './roster.js';
import { type PacedTransport, transportClass } from './transport.js';

type Log = AdapterServices['log'];

/** A connection that registers but never finishes (a stuck SASL exchange) is given up after this. */
const REGISTRATION_TIMEOUT_MS = 30_000;
/** Registered this long: the network accepts us, so the next drop starts the back-off afresh. */
const STABLE_AFTER_MS = 60_000;
/** How often a lost nick is asked back and channels we are not in are joined again. */
const MAINTENANCE_MS = 60_000;
/** When identifying with NickServ, joins wait for the login (channels may need it), at most this long. */
const IDENTIFY_WAIT_MS = 10_000;
const WHOIS_TIMEOUT_MS = 5_000;

export interface TlsFiles {
  ca?: string;
  cert?: string;
  key?: string;
}

/** The PEM files the configuration names, read; an error names the key whose file cannot be read. */
export function readTlsFiles(config: IrcAdapterConfig): TlsFiles {
  const read = (path: string, what: string) => {
    try {
      return readFileSync(path, 'utf8');
    } catch (err) {
      throw new Error(
        `cannot read chat.irc.${what} (${path}): ${(err as NodeJS.ErrnoException).code ?? err}`,
      );
    }
  };
  const files: TlsFiles = {};
  if (config.tls_ca) files.ca = read(config.tls_ca, 'tls_ca');
  if (config.client_cert) {
    files.cert = read(config.client_cert.cert, 'client_cert.cert');
    files.key = read(config.client_cert.key, 'client_cert.key');
  }
  return files;
}

/**
 * One always-on presence on an IRC network: connects (TLS, SASL or NickServ), registers with a
 * free nick, joins the channels, keeps track of who is where and logged in as whom, and
 * reconnects with back-off and jitter whenever the connection drops, for as long as it runs
 * (irc-framework's own reconnect gives up after a few tries; it is off). Lines go out through
 * the transport's flood-controlled queue.
 */
export class IrcConnection {
  /** Our nick on the network now (may be an alternative). */
  nick: string;
  fold: Fold = foldFor(undefined);
  readonly roster = new Roster(this.fold);
  readonly book = new AccountBook(this.fold);
  /** The services account we are logged in to, if any. */
  account: string | undefined;

  private client: Client | undefined;
  private transport: PacedTransport | undefined;
  /** The server's confirmations of what this connection wrote (one per connection). */
  private confirmations: Confirmations | undefined;
  private registered = false;
  private stopping = false;
  private attempt = 0;
  private nickTries = 0;
  private timers = new Map<string, NodeJS.Timeout>();
  /** Channels joined because announcements go there, though not configured (folded → name). */
  private readonly announcedTo = new Map<string, string>();
  private onClosed: (() => void) | undefined;

  constructor(
    private readonly config: IrcAdapterConfig,
    private readonly tlsFiles: TlsFiles,
    private readonly log: Log,
    private readonly onMessage: (event: MessageEvent) => void,
    /** Lines can reach more targets now: registered with the server, or a channel joined. */
    private readonly onReachable?: () => void,
  ) {
    this.nick = config.nick;
  }

  /** Registered with the server and the socket is up: lines written now reach it. */
  get ready(): boolean {
    return this.registered && this.client?.connection.connected === true;
  }

  get chantypes(): string[] {
    return this.client?.network.options.CHANTYPES ?? ['#', '&'];
  }

  isChannel(target: string): boolean {
    return isChannel(target, this.chantypes);
  }

  start(): void {
    if (!this.config.tls_verify) {
      this.log.warn(
        { host: this.config.host },
        'IRC TLS certificate checks are off (chat.irc.tls_verify: false)',
      );
    }
    this.connect();
  }

  /** Sends what is queued (for a few seconds at most), says goodbye, closes. */
  async stop(): Promise<void> {
    this.stopping = true;
    for (const timer of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
    const client = this.client;
    if (!client) return;
    if (this.ready) {
      await Promise.race([this.transport?.drained(), sleep(3_000)]);
      const closed = new Promise<void>((resolve) => {
        this.onClosed = resolve;
      });
      client.quit('bbwatch stopping');
      await Promise.race([closed, sleep(2_000)]);
    }
    this.transport?.close(true);
  }

  /**
   * Writes raw lines in order through the flood-controlled queue. Resolves once every line was
   * written to the socket; rejects when we are not connected or the connection drops first.
   */
  write(lines: readonly string[]): Promise<void> {
    const client = this.client;
    if (!client || !this.ready) return Promise.reject(new Error('not connected to the IRC server'));
    return Promise.all(
      lines.map(
        (line) =>
          new Promise<void>((resolve, reject) => {
            client.connection.write(line, (err) => (err ? reject(err) : resolve()));
          }),
      ),
    ).then(() => undefined);
  }

  /**
   * Writes like `write`, then resolves only once the server has processed the lines (see
   * confirm.ts): for what must not be lost when the connection drops just after writing.
   */
  async writeConfirmed(lines: readonly string[]): Promise<void> {
    const confirmations = this.confirmations;
    await this.write(lines);
    if (!confirmations) throw new Error('not connected to the IRC server');
    await confirmations.confirmed();
  }

  /** Bytes of text a PRIVMSG or NOTICE to `target` may carry (see lineBudget). */
  budget(target: string, command: 'PRIVMSG' | 'NOTICE'): number {
    const options = this.client?.network.options;
    // Lines wait in the queue, and the nick may change meanwhile (taken back, or an alternative).
    const nicks = [this.nick, this.config.nick, ...this.config.alt_nicks];
    const longest = nicks.reduce((a, b) => (Buffer.byteLength(b) > Buffer.byteLength(a) ? b : a));
    return lineBudget({
      nick: longest,
      target,
      command,
      userLen: Number(options?.USERLEN) || 10,
      hostLen: Number(options?.HOSTLEN) || 63,
    });
  }

  /** The sender's services account (null: not logged in), asking the server when nothing else tells. */
  async accountOf(event: MessageEvent): Promise<string | null> {
    const client = this.client;
    if (!client || !event.nick) return null;
    const known = accountOf(event.account, event.nick, this.caps(client), this.book);
    if (known !== undefined) return known;
    const nick = event.nick;
    return new Promise((resolve) => {
      const timer = setTimeout(() => resolve(null), WHOIS_TIMEOUT_MS);
      client.whois(nick, (whois) => {
        clearTimeout(timer);
        resolve(whois.account || null);
      });
    });
  }

  private caps(client: Client): AccountCaps {
    const on = (cap: string) => client.network.cap.isEnabled(cap);
    return {
      accountTag: on('account-tag'),
      extendedJoin: on('extended-join'),
      accountNotify: on('account-notify'),
    };
  }

  private setTimer(name: string, ms: number, fn: () => void): void {
    clearTimeout(this.timers.get(name));
    const timer = setTimeout(() => {
      this.timers.delete(name);
      fn();
    }, ms);
    this.timers.set(name, timer);
  }

  private clearTimer(name: string): void {
    clearTimeout(this.timers.get(name));
    this.timers.delete(name);
  }

  private connect(): void {
    if (this.stopping) return;
    const { config } = this;
    const client = new irc.Client();
    this.client = client;
    this.registered = false;
    this.account = undefined;
    this.nick = config.nick;
    this.nickTries = 0;
    this.bind(client);
    const confirmations = new Confirmations(
      {
        ping: (token, written) => client.connection.write(`PING :${token}`, written),
        setTimeout: (fn, ms) => setTimeout(fn, ms).unref(),
        clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
      },
      config.ping_timeout,
    );
    this.confirmations = confirmations;
    client.on('pong', (e) => confirmations.pong(e.message));
    const Transport = transportClass(
      {
        host: config.host,
        port: this.port,
        tls: config.tls,
        tlsVerify: config.tls_verify,
        ...this.tlsFiles,
        flood: { burst: config.flood.burst, intervalMs: config.flood.interval },
      },
      {
        created: (t) => {
          if (client === this.client) this.transport = t;
        },
        error: (err) => {
          if (client === this.client) {
            this.log.warn({ host: config.host, port: this.port, err: err.message }, 'IRC connection error');
          }
        },
      },
    );
    const options = clientOptions(config, Transport);
    this.log.info(
      { host: config.host, port: this.port, tls: config.tls, nick: config.nick },
      'connecting to IRC',
    );
    this.setTimer('register', REGISTRATION_TIMEOUT_MS, () => {
      this.log.warn({ host: config.host }, 'IRC registration timed out');
      this.transport?.close(true);
    });
    client.connect(options);
  }

  private get port(): number {
    return portOf(this.config);
  }

  private bind(client: Client): void {
    const mine = <T extends unknown[]>(fn: (...args: T) => void) => {
      return (...args: T) => {
        if (client === this.client) fn(...args);
      };
    };
    client.on(
      'registered',
      mine((e) => this.registeredAs(client, e.nick)),
    );
    // ISUPPORT (005) comes after the welcome: the case mapping and MONITOR are known from here on.
    let monitoring = false;
    client.on(
      'server options',
      mine(() => {
        this.fold = foldFor(client.network.options.CASEMAPPING);
        this.roster.setFold(this.fold);
        this.book.setFold(this.fold);
        if (!monitoring && client.network.supports('MONITOR') && !this.isMe(this.config.nick)) {
          monitoring = true;
          client.connection.write(`MONITOR + ${this.config.nick}`);
        }
      }),
    );
    client.on(
      'loggedin',
      mine((e) => {
        this.account = e.account;
        this.log.info({ account: e.account }, 'logged in to IRC services');
      }),
    );
    client.on(
      'sasl failed',
      mine((e) => this.log.error({ reason: e.reason }, 'IRC SASL login failed')),
    );
    const nickTaken = mine((e: { nick: string; reason: string }) => {
      if (this.registered) return; // an attempt to regain our nick: keep the one we have
      const next = this.nextNick();
      this.log.info({ taken: e.nick, trying: next }, 'IRC nick not available');
      this.nick = next;
      client.changeNick(next);
    });
    client.on('nick in use', nickTaken);
    client.on('nick invalid', nickTaken);
    client.on(
      'privmsg',
      mine((e) => this.onMessage(e)),
    );
    client.on(
      'join',
      mine((e) => {
        if (this.isMe(e.nick)) {
          this.roster.joined(e.channel);
          this.log.info({ channel: e.channel }, 'joined IRC channel');
          this.trackAccounts(client, e.channel);
          this.onReachable?.();
          return;
        }
        this.roster.join(e.channel, e.nick);
        this.book.seen(e.nick, e.channel, e.account === undefined ? undefined : e.account || null);
      }),
    );
    client.on(
      'userlist',
      mine((e) => {
        this.roster.names(e.channel, e.users);
        for (const u of e.users) this.book.seen(u.nick, e.channel, undefined);
      }),
    );
    const left = (nick: string, channel: string, how: string) => {
      if (this.isMe(nick)) {
        this.roster.parted(channel);
        this.book.leftChannel(channel);
        this.log.warn({ channel, how }, 'left IRC channel');
        return;
      }
      this.roster.part(channel, nick);
      this.book.left(nick, channel);
    };
    client.on(
      'part',
      mine((e) => left(e.nick, e.channel, 'part')),
    );
    client.on(
      'kick',
      mine((e) => left(e.kicked, e.channel, `kicked by ${e.nick}`)),
    );
    client.on(
      'quit',
      mine((e) => {
        this.roster.quit(e.nick);
        this.book.quit(e.nick);
        if (this.fold(e.nick) === this.fold(this.config.nick)) this.regainNick(client);
      }),
    );
    client.on(
      'nick',
      mine((e) => {
        if (this.isMe(e.nick)) {
          this.nick = e.new_nick;
          this.log.info({ nick: e.new_nick }, 'IRC nick changed');
        } else if (this.fold(e.nick) === this.fold(this.config.nick)) {
          queueMicrotask(() => this.regainNick(client));
        }
        this.roster.renamed(e.nick, e.new_nick);
        this.book.renamed(e.nick, e.new_nick);
      }),
    );
    // MONITOR tells us the moment our own nick is free again (no need to share a channel with its holder).
    client.on(
      'users offline',
      mine((e) => {
        if (e.nicks.some((n) => this.fold(n) === this.fold(this.config.nick))) this.regainNick(client);
      }),
    );
    client.on(
      'mode',
      mine((e) => {
        if (!this.isChannel(e.target)) return;
        for (const m of e.modes) if (m.param) this.roster.mode(e.target, m.mode, m.param);
      }),
    );
    client.on(
      'account',
      mine((e) => this.book.setAccount(e.nick, e.account || null)),
    );
    client.on(
      'irc error',
      mine((e) =>
        this.log.warn({ error: e.error, channel: e.channel, nick: e.nick, reason: e.reason }, 'IRC error'),
      ),
    );
    client.on(
      'ping timeout',
      mine(() => {
        // A dead connection: drop it now rather than after the QUIT has waited its turn.
        this.log.warn({ host: this.config.host }, 'IRC ping timeout');
        this.transport?.close(true);
      }),
    );
    client.on('close', () => this.closed(client));
  }

  private isMe(nick: string): boolean {
    return this.fold(nick) === this.fold(this.nick);
  }

  private registeredAs(client: Client, nick: string): void {
    this.registered = true;
    this.nick = nick;
    this.transport?.startPacing();
    this.clearTimer('register');
    this.setTimer('stable', STABLE_AFTER_MS, () => {
      this.attempt = 0;
    });
    this.log.info(
      { nick, account: this.account, caps: client.network.cap.enabled, network: client.network.name },
      'connected to IRC',
    );
    this.onReachable?.();
    const nickserv = this.config.nickserv;
    if (nickserv && !this.account) {
      const account = nickserv.account ?? this.config.nick;
      // The password travels to NickServ only; it is never logged.
      client.connection.write(`PRIVMSG NickServ :IDENTIFY ${account} ${nickserv.password}`);
      let joined = false;
      const joinOnce = () => {
        if (joined || client !== this.client) return;
        joined = true;
        this.joinChannels(client);
      };
      client.on('loggedin', joinOnce);
      this.setTimer('identify', IDENTIFY_WAIT_MS, joinOnce);
    } else {
      this.joinChannels(client);
    }
    this.scheduleMaintenance(client);
  }

  private joinChannels(client: Client): void {
    for (const c of this.config.channels) {
      if (!this.roster.isJoined(c.name)) client.join(c.name, c.key);
    }
    for (const name of this.announcedTo.values()) {
      if (!this.roster.isJoined(name)) client.join(name);
    }
  }

  /**
   * A channel we are asked to announce to but are not in: join it (now, and again on every
   * reconnect), as for the configured channels. Joins without a key; keyed channels belong in
   * `channels`.
   */
  want(channel: string): void {
    const key = this.fold(channel);
    if (this.config.channels.some((c) => this.fold(c.name) === key) || this.announcedTo.has(key)) return;
    this.announcedTo.set(key, channel);
    if (this.client && this.registered) this.client.join(channel);
  }

  /** Ask for our nick back, rejoin channels we lost (kicked, banned for a while, a join refused). */
  private scheduleMaintenance(client: Client): void {
    this.setTimer('maintain', MAINTENANCE_MS, () => {
      if (client !== this.client || !this.registered) return;
      this.regainNick(client);
      this.joinChannels(client);
      this.scheduleMaintenance(client);
    });
  }

  private regainNick(client: Client): void {
    if (client === this.client && this.registered && this.fold(this.nick) !== this.fold(this.config.nick)) {
      client.changeNick(this.config.nick);
    }
  }

  /**
   * Without account-tag, accounts come from extended-join and account-notify; members who were
   * there before us are asked for once with WHOX.
   */
  private trackAccounts(client: Client, channel: string): void {
    const caps = this.caps(client);
    if (caps.accountTag || !caps.extendedJoin || !caps.accountNotify || !client.network.supports('whox'))
      return;
    client.who(channel, (e) => {
      for (const u of e.users) this.book.seen(u.nick, channel, u.account || null);
    });
  }

  private nextNick(): string {
    const base = this.config.nick;
    const alternatives = this.config.alt_nicks.length > 0 ? this.config.alt_nicks : [`${base}_`, `${base}__`];
    const next = alternatives[this.nickTries++];
    return next ?? `${base.slice(0, 25)}${100 + Math.floor(Math.random() * 900)}`;
  }

  private closed(client: Client): void {
    if (client !== this.client) return;
    const wasRegistered = this.registered;
    this.registered = false;
    this.client = undefined;
    this.transport = undefined;
    this.confirmations?.close(new Error('disconnected from the IRC server before it confirmed the lines'));
    this.confirmations = undefined;
    this.roster.clear();
    this.book.clear();
    for (const name of ['register', 'stable', 'maintain', 'identify']) this.clearTimer(name);
    if (this.stopping) {
      this.onClosed?.();
      return;
    }
    // Driven by the connection's events, not a loop `retry` could run: a registration that lasted
    // resets the count (STABLE_AFTER_MS), and the wait is the bot's one back-off.
    const delayMs = backoffDelay(this.attempt++, this.config.reconnect.min, this.config.reconnect.max);
    this.log.warn({ wasRegistered, attempt: this.attempt, delayMs }, 'disconnected from IRC; reconnecting');
    this.setTimer('reconnect', delayMs, () => this.connect());
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}
