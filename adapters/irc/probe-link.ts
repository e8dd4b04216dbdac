/**
 * The doctor's one connection to the IRC server (adapters/irc/probe.ts runs the checks): made as
 * the adapter makes its own, and what the server has said on it so far, as milestones a check can
 * await (TCP, TLS, the welcome, the login, each join).
 */
import irc, { type Client } from 'irc-framework';
import { type Fold, foldFor } from './casemap.js';
import type { TlsFiles } from './connection.js';
import { clientOptions, type IrcAdapterConfig, portOf } from './options.js';
import { transportClass } from './transport.js';

/** A channel the bot joins, and the configuration key that asks for it. */
export interface ProbeChannel {
  name: string;
  key?: string | undefined;
  /** `chat.irc.channels[0]`, `notify[2].to`. */
  from: string;
}

/** How long NickServ may take to confirm an IDENTIFY. */
export const IDENTIFY_WAIT_MS = 10_000;

/** A join refused, with the server's reason and irc-framework's name for it (or the numeric). */
export class JoinError extends Error {
  constructor(
    readonly kind: string,
    message: string,
  ) {
    super(message);
  }
}

/** Something that happens once on the connection, awaited by one check. */
class Milestone<T> {
  private settled = false;
  private value: { ok: true; value: T } | { ok: false; err: Error } | undefined;
  private listeners: Array<() => void> = [];

  resolve(value: T): void {
    this.settle({ ok: true, value });
  }

  reject(err: Error): void {
    this.settle({ ok: false, err });
  }

  get done(): boolean {
    return this.settled;
  }

  wait(signal: AbortSignal): Promise<T> {
    return new Promise((resolve, reject) => {
      const finish = () => {
        signal.removeEventListener('abort', onAbort);
        const v = this.value;
        if (!v) return;
        if (v.ok) resolve(v.value);
        else reject(v.err);
      };
      const onAbort = () => reject(signal.reason as Error);
      if (this.settled) return finish();
      signal.addEventListener('abort', onAbort, { once: true });
      this.listeners.push(finish);
    });
  }

  private settle(value: NonNullable<typeof this.value>): void {
    if (this.settled) return;
    this.settled = true;
    this.value = value;
    for (const l of this.listeners.splice(0)) l();
  }
}

/** One connection to the server and what it has told us so far. */
export class ProbeLink {
  readonly tcp = new Milestone<void>();
  readonly secure = new Milestone<void>();
  readonly registered = new Milestone<string>();
  saslResult: { account?: string; reason?: string; message?: string } | undefined;
  fold: Fold = foldFor(undefined);
  private readonly client: Client;
  private readonly joins = new Map<string, Milestone<{ redirectedTo?: string }>>();
  private loggedIn: Milestone<string> | undefined;
  private lastNickServ = '';
  private closed: Promise<void>;
  private nickTries = 0;

  constructor(
    private readonly config: IrcAdapterConfig,
    files: TlsFiles,
  ) {
    const client = new irc.Client();
    this.client = client;
    let markClosed: () => void = () => undefined;
    this.closed = new Promise((resolve) => (markClosed = resolve));
    let lastServerError: string | undefined;
    const lost = (fallback: string) => new Error(lastServerError ?? fallback);
    const Transport = transportClass(
      {
        host: config.host,
        port: portOf(config),
        tls: config.tls,
        tlsVerify: config.tls_verify,
        ...files,
        flood: { burst: 20, intervalMs: 500 },
      },
      {
        // The transport opens once TCP (and TLS, when on) is up.
        created: (t) => t.once('open', () => this.secure.resolve()),
        connected: () => this.tcp.resolve(),
        error: (err) => {
          if (!this.tcp.done) this.tcp.reject(describeSocketError(err));
          else if (!this.secure.done) this.secure.reject(describeSocketError(err));
          else lastServerError ??= err.message;
        },
      },
    );
    client.on('registered', (e) => this.registered.resolve(e.nick));
    client.on('server options', () => {
      this.fold = foldFor(client.network.options.CASEMAPPING);
    });
    client.on('loggedin', (e) => {
      this.saslResult ??= { account: e.account };
      this.loggedIn?.resolve(e.account);
    });
    client.on('sasl failed', (e) => {
      this.saslResult ??= { reason: e.reason, ...(e.message ? { message: e.message } : {}) };
    });
    const nickTaken = (e: { nick: string; reason: string }) => {
      if (this.registered.done) return;
      const next = this.nextNick();
      if (next) client.changeNick(next);
      else this.registered.reject(new Error(`no free nick (${e.reason})`));
    };
    client.on('nick in use', nickTaken);
    client.on('nick invalid', nickTaken);
    client.on('notice', (e) => {
      if (!e.nick || this.fold(e.nick) !== this.fold('NickServ')) return;
      this.lastNickServ = e.message;
      // Anope: "Password incorrect."; Atheme: "Invalid password for ..." — no need to wait out the timer.
      if (/incorrect|invalid|not registered|denied|failed/i.test(e.message))
        this.loggedIn?.reject(new Error(`NickServ said: ${e.message}`));
    });
    client.on('irc error', (e) => {
      const reason = e.reason ?? e.error.replace(/_/g, ' ');
      if (e.channel) return this.joinFailed(e.channel, e.error, reason);
      if (e.error === 'password_mismatch') lastServerError = 'the server refused the server password';
      else if (e.error === 'banned_from_network') lastServerError = `banned from the network: ${reason}`;
      else if (e.error === 'irc') lastServerError = `the server closed the connection: ${reason}`;
    });
    client.on('unknown command', (e) => {
      // Join refusals irc-framework does not name: no such channel, bad name, registered users only, TLS only.
      if (['403', '476', '477', '479', '489', '405'].includes(e.command) && e.params[1]) {
        this.joinFailed(e.params[1], e.command, e.params[e.params.length - 1] ?? e.command);
      }
    });
    client.on('channel_redirect', (e) => this.joins.get(this.fold(e.from))?.resolve({ redirectedTo: e.to }));
    client.on('join', (e) => {
      if (this.fold(e.nick) === this.fold(client.user.nick))
        this.joins.get(this.fold(e.channel))?.resolve({});
    });
    client.on('close', () => {
      const gone = lost('the server closed the connection');
      this.tcp.reject(gone);
      this.secure.reject(gone);
      this.registered.reject(gone);
      this.loggedIn?.reject(gone);
      for (const m of this.joins.values()) m.reject(new JoinError('closed', gone.message));
      markClosed();
    });
    client.connect(clientOptions(config, Transport));
  }

  /** Joins a channel; resolves on our own JOIN, rejects with the server's refusal. */
  join(channel: ProbeChannel, signal: AbortSignal): Promise<{ redirectedTo?: string }> {
    const key = this.fold(channel.name);
    let pending = this.joins.get(key);
    if (!pending) {
      pending = new Milestone();
      this.joins.set(key, pending);
      this.client.join(channel.name, channel.key);
    }
    return pending.wait(signal);
  }

  /** NickServ IDENTIFY; resolves with the account once services log us in. */
  identify(account: string, password: string, signal: AbortSignal): Promise<string> {
    if (this.saslResult?.account) return Promise.resolve(this.saslResult.account);
    const loggedIn = new Milestone<string>();
    this.loggedIn = loggedIn;
    // The password goes to NickServ only; nothing logs it.
    this.client.connection.write(`PRIVMSG NickServ :IDENTIFY ${account} ${password}`);
    const timer = setTimeout(() => {
      loggedIn.reject(
        new Error(
          this.lastNickServ
            ? `NickServ said: ${this.lastNickServ}`
            : `NickServ did not confirm within ${IDENTIFY_WAIT_MS / 1000} s`,
        ),
      );
    }, IDENTIFY_WAIT_MS);
    return loggedIn.wait(signal).finally(() => clearTimeout(timer));
  }

  /** QUIT, and the socket closed (at once when the server does not close it within 2 s). */
  async close(): Promise<void> {
    this.client.quit('bbwatch doctor');
    await Promise.race([this.closed, new Promise((r) => setTimeout(r, 2_000).unref())]);
    this.client.connection.end(undefined, true);
    this.client.removeAllListeners();
  }

  private joinFailed(channel: string, kind: string, reason: string): void {
    this.joins.get(this.fold(channel))?.reject(new JoinError(kind, reason));
  }

  private nextNick(): string | undefined {
    const base = this.config.nick;
    const alternatives = this.config.alt_nicks.length > 0 ? this.config.alt_nicks : [`${base}_`, `${base}__`];
    return alternatives[this.nickTries++];
  }
}

/** A socket error in words a person knows (the code alone says little). */
function describeSocketError(err: Error): Error {
  const code = (err as NodeJS.ErrnoException).code ?? '';
  const words: Record<string, string> = {
    ECONNREFUSED: 'connection refused',
    ENOTFOUND: 'the host name does not resolve',
    EAI_AGAIN: 'the host name could not be looked up (DNS)',
    ETIMEDOUT: 'no answer (timed out)',
    EHOSTUNREACH: 'the host cannot be reached',
    ENETUNREACH: 'the network cannot be reached',
    ECONNRESET: 'the connection was reset',
  };
  const described = new Error(words[code] ? `${words[code]} (${code})` : err.message);
  (described as NodeJS.ErrnoException).code = code;
  return described;
}
