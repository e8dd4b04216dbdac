/**
 * `bbwatch doctor` on IRC: one short connection made as the adapter makes it (the same transport,
 * TLS settings, SASL or NickServ login), checked step by step: TCP, TLS, registration, login, then
 * each channel joined. It says nothing in any channel and quits at the end.
 */
import { isIP } from 'node:net';
import { fail, ok, type PlatformProbe, type ProbeServices, warn } from '../../src/chat/probe.js';
import { readTlsFiles, type TlsFiles } from './connection.js';
import { type IrcAdapterConfig, portOf } from './options.js';
import { IDENTIFY_WAIT_MS, type JoinError, ProbeLink, type ProbeChannel } from './probe-link.js';

export type { ProbeChannel } from './probe-link.js';

/** How long registration may take (the server's welcome). */
const REGISTER_WAIT_MS = 20_000;

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

function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || (isIP(host) === 4 && host.startsWith('127.'));
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
