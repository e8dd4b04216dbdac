/**
 * `bbwatch doctor` on IRC: one short connection made as the adapter makes it (the same transport,
 * TLS settings, SASL or NickServ login), checked step by step: TCP, TLS, registration, login, then
 * each channel joined. It says nothing in any channel and quits at the end.
 */
import { isIP } from 'node:net';
import irc, { type Client } from 'irc-framework';
import { fail, ok, type PlatformProbe, type ProbeServices, warn } from '../../src/chat/probe.js';
import { type Fold, foldFor } from './casemap.js';
import { readTlsFiles, type TlsFiles } from './connection.js';
import { clientOptions, type IrcAdapterConfig, portOf } from './options.js';
import { transportClass } from './transport.js';

/** A channel the bot joins, and the configuration key that asks for it. */
export interface ProbeChannel {
  name: string;
  key?: string | undefined;
  /** `chat.irc.channels[0]`, `notify[2].to`. */
  from: string;
}

/** How long registration may take (the server's welcome). */
const REGISTER_WAIT_MS = 20_000;
/** How long NickServ may take to confirm an IDENTIFY. */
const IDENTIFY_WAIT_MS = 10_000;

/** Certificate errors: the server was reached, but its certificate is not trusted. */
const CERT_ERRORS = /CERT|SELF_SIGNED|UNABLE_TO_VERIFY|ALTNAME|UNABLE_TO_GET_ISSUER/;

export class IrcProbe implements PlatformProbe {
  readonly platform = 'irc';

  constructor(
    private readonly config: IrcAdapterConfig,
    private readonly channels: readonly ProbeChannel[],
  ) {}

  async run(s: ProbeServices): Promise<void> {
    const config = this.config;
    const where = `${config.host}:${portOf(config)}`;
    let files: TlsFiles;
    try {
      files = readTlsFiles(config);
    } catch (err) {
      await s.check('TLS files', async () =>
        fail((err as Error).message, 'point the key at a readable PEM file'),
      );
      return;
    }
    const link = new ProbeLink(config, files);
    try {
      const tcp = await s.check(`connect to ${where}`, (signal) =>
        link.tcp.wait(signal).then(
          () => ok('connected'),
          (err: Error) => fail(err.message, connectFix(err, config, s)),
        ),
      );
      if (tcp.status !== 'ok') return this.skipRest(s, 'no connection');

      if (config.tls) {
        const tls = await s.check('TLS handshake', (signal) =>
          link.secure.wait(signal).then(
            () =>
              config.tls_verify
                ? ok('certificate verified')
                : warn(
                    'certificate not checked',
                    `${s.key('chat.irc.tls_verify')} is false: anyone between here and the server could read the password; trust the server's CA with ${s.key('chat.irc.tls_ca')} instead`,
                  ),
            (err: Error) => fail(err.message, tlsFix(err, config, s)),
          ),
        );
        if (tls.status === 'fail') return this.skipRest(s, 'no TLS connection');
      } else if (!isLoopback(config.host) && (config.sasl || config.nickserv || config.server_password)) {
        s.skip('TLS handshake', 'chat.irc.tls is false');
        await s.check('password in clear text', async () =>
          warn(
            'the login goes over an unencrypted connection',
            `set ${s.key('chat.irc.tls')}: true (and the server's TLS port) so the password is not sent in the clear`,
          ),
        );
      }

      const registered = await s.check(
        `register as ${config.nick}`,
        (signal) =>
          link.registered.wait(signal).then(
            (nick) =>
              link.fold(nick) === link.fold(config.nick)
                ? ok(`registered as ${nick}`)
                : warn(
                    `${config.nick} is taken; registered as ${nick}`,
                    `fine if bbwatch is running now (it holds the nick); otherwise someone else does: register the nick with NickServ, or set ${s.key('chat.irc.alt_nicks')}`,
                  ),
            (err: Error) => fail(err.message, registerFix(err.message, config, s)),
          ),
        {
          // Networks that look up DNS and ident first take a few seconds; the adapter waits 30.
          timeoutMs: REGISTER_WAIT_MS,
          fixOnTimeout: `the server took the connection but never welcomed the bot: is ${where} an IRC port${config.tls ? ' that speaks TLS' : ' without TLS'} (${s.key('chat.irc.port')}, ${s.key('chat.irc.tls')})?`,
        },
      );
      if (registered.status === 'fail') return this.skipRest(s, 'not registered', true);

      await this.login(s, link);
      for (const channel of this.channels) {
        await s.check(`join ${channel.name}`, (signal) =>
          link.join(channel, signal).then(
            (result) =>
              result.redirectedTo
                ? warn(
                    `the server sent the bot to ${result.redirectedTo} instead`,
                    `${channel.name} forwards joins (+f/+L): announce to ${result.redirectedTo}, or have its operators let the bot in (${channel.from})`,
                  )
                : ok('joined'),
            (err: JoinError) => fail(err.message, joinFix(err, channel, config, s)),
          ),
        );
      }
    } finally {
      await link.close();
    }
  }

  /** SASL (before registration completes) or NickServ (after). */
  private async login(s: ProbeServices, link: ProbeLink): Promise<void> {
    const { sasl, nickserv } = this.config;
    if (sasl) {
      const who = sasl.mechanism === 'EXTERNAL' ? 'with the client certificate' : `as ${sasl.account}`;
      await s.check(`SASL ${sasl.mechanism} login ${who}`, async () => {
        const result = link.saslResult;
        if (result?.account) return ok(`logged in to account ${result.account}`);
        const said = result?.message ? ` — the server said: ${result.message}` : '';
        if (result?.reason === 'capability_missing')
          return fail(
            'the server offers no SASL',
            `use ${s.key('chat.irc.nickserv')} instead of chat.irc.sasl, or connect to a server of the network that offers SASL`,
          );
        if (result?.reason === 'unsupported_mechanism')
          return fail(
            `the server does not take SASL ${sasl.mechanism}`,
            `set ${s.key('chat.irc.sasl.mechanism')} to one the server offers (PLAIN or EXTERNAL)`,
          );
        if (sasl.mechanism === 'EXTERNAL')
          return fail(
            'refused',
            `register the certificate of ${s.key('chat.irc.client_cert.cert')} with the account (NickServ CERT ADD)${said}`,
          );
        return fail(
          result ? 'refused' : 'no answer to the login',
          `check ${s.key('chat.irc.sasl.account')} and ${s.key('chat.irc.sasl.password')}${said}`,
        );
      });
      return;
    }
    if (nickserv) {
      const account = nickserv.account ?? this.config.nick;
      await s.check(
        `NickServ IDENTIFY as ${account}`,
        (signal) =>
          link.identify(account, nickserv.password, signal).then(
            (loggedIn) => ok(`logged in to account ${loggedIn}`),
            (err: Error) =>
              fail(
                'not logged in',
                `check ${s.key('chat.irc.nickserv.account')} and ${s.key('chat.irc.nickserv.password')} — ${err.message}`,
              ),
          ),
        { timeoutMs: IDENTIFY_WAIT_MS + 5_000 },
      );
    }
  }

  private skipRest(s: ProbeServices, why: string, registeredFailed = false): void {
    if (!registeredFailed) s.skip(`register as ${this.config.nick}`, why);
    if (this.config.sasl) s.skip(`SASL ${this.config.sasl.mechanism} login`, why);
    else if (this.config.nickserv) s.skip('NickServ IDENTIFY', why);
    for (const channel of this.channels) s.skip(`join ${channel.name}`, why);
  }
}

/** A join refused, with the server's reason and irc-framework's name for it (or the numeric). */
class JoinError extends Error {
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
class ProbeLink {
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
      if (e.nick && this.fold(e.nick) === this.fold('NickServ')) this.lastNickServ = e.message;
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

function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || (isIP(host) === 4 && host.startsWith('127.'));
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

function connectFix(err: Error, config: IrcAdapterConfig, s: ProbeServices): string {
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN')
    return `check ${s.key('chat.irc.host')} (${config.host}) for a typo, and that this machine resolves names`;
  if (code === 'ECONNREFUSED')
    return `nothing listens on ${config.host}:${portOf(config)}: check ${s.key('chat.irc.port')} (${config.tls ? 'TLS ports are usually 6697' : 'plain ports are usually 6667'})`;
  return `check ${s.key('chat.irc.host')} and ${s.key('chat.irc.port')}, and that a firewall lets this machine out`;
}

function tlsFix(err: Error, config: IrcAdapterConfig, s: ProbeServices): string {
  const code = (err as NodeJS.ErrnoException).code ?? '';
  if (CERT_ERRORS.test(code) || CERT_ERRORS.test(err.message))
    return `the server's certificate is not trusted: give its CA in ${s.key('chat.irc.tls_ca')} (a private network), or check ${s.key('chat.irc.host')} is the name on the certificate`;
  return `is ${config.host}:${portOf(config)} a TLS port? Set ${s.key('chat.irc.port')} to the server's TLS port (usually 6697), or ${s.key('chat.irc.tls')}: false for a plain one`;
}

function registerFix(message: string, config: IrcAdapterConfig, s: ProbeServices): string {
  if (/server password/.test(message)) return `check ${s.key('chat.irc.server_password')}`;
  if (/banned/.test(message))
    return 'the network bans this machine or nick: ask its operators (K-line/G-line)';
  if (/no free nick/.test(message)) return `every nick is taken: set ${s.key('chat.irc.alt_nicks')}`;
  return config.tls
    ? 'the server dropped the connection before welcoming the bot: see its words above'
    : `the server dropped the connection before welcoming the bot: does ${config.host}:${portOf(config)} need TLS (${s.key('chat.irc.tls')})?`;
}

function joinFix(err: JoinError, channel: ProbeChannel, config: IrcAdapterConfig, s: ProbeServices): string {
  const said = `the server said: ${err.message}`;
  const name = channel.name;
  switch (err.kind) {
    case '403':
    case '476':
    case '479':
      return `the server has no channel ${name} and will not make one: check ${s.key(channel.from)} for a typo — ${said}`;
    case 'invite_only_channel':
      return `${name} is invite-only (+i): have an operator invite ${config.nick} or add it to the invite list (+I / ChanServ access) — ${said}`;
    case 'banned_from_channel':
      return `${config.nick} is banned from ${name}: have an operator lift the ban (+b) that matches it — ${said}`;
    case 'bad_channel_key':
      return channel.from.startsWith('chat.irc.channels')
        ? `${name} has a key (+k): set it as ${s.key(`${channel.from}.key`)} — ${said}`
        : `${name} has a key (+k): list it under chat.irc.channels with its key — ${said}`;
    case 'channel_is_full':
      return `${name} is full (+l): have an operator raise the limit — ${said}`;
    case '477':
      return `${name} admits only logged-in users: configure ${s.key('chat.irc.sasl')} so the bot logs in — ${said}`;
    case '489':
      return `${name} admits only TLS connections: set ${s.key('chat.irc.tls')}: true — ${said}`;
    case '405':
    case 'too_many_channels':
      return `the bot may not join more channels on this network: configure fewer — ${said}`;
    default:
      return said;
  }
}
