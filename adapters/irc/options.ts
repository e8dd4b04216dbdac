import type { ClientOptions } from 'irc-framework';

/**
 * The IRC adapter's settings: `chat.irc` from the configuration as validated there
 * (src/config/chat-irc.ts), defaults filled in, durations in milliseconds. Written out here
 * because adapters do not import the core's config; src/cli.ts passes one to the other, and
 * TypeScript checks that they agree.
 */
export interface IrcAdapterConfig {
  host: string;
  port?: number | undefined;
  tls: boolean;
  tls_verify: boolean;
  /** Paths of PEM files. */
  tls_ca?: string | undefined;
  client_cert?: { cert: string; key: string } | undefined;
  server_password?: string | undefined;
  nick: string;
  alt_nicks: string[];
  username?: string | undefined;
  realname: string;
  sasl?:
    | { mechanism: 'PLAIN' | 'EXTERNAL'; account?: string | undefined; password?: string | undefined }
    | undefined;
  nickserv?: { account?: string | undefined; password: string } | undefined;
  channels: Array<{ name: string; key?: string | undefined }>;
  ops_operate: boolean;
  announce_as: 'privmsg' | 'notice';
  colours: boolean;
  announce_lines: number;
  compact_after: number;
  compact_window: number;
  channel_reply_lines: number;
  reply_lines: number;
  flood: { burst: number; interval: number };
  reconnect: { min: number; max: number };
  ping_timeout: number;
}

/** The port: as configured, else 6697 with TLS and 6667 without. */
export function portOf(config: IrcAdapterConfig): number {
  return config.port ?? (config.tls ? 6697 : 6667);
}

/** irc-framework's options for one connection as bbwatch makes it (the adapter's and the doctor's). */
export function clientOptions(
  config: IrcAdapterConfig,
  transport: NonNullable<ClientOptions['transport']>,
): ClientOptions {
  const sasl = config.sasl;
  return {
    host: config.host,
    port: portOf(config),
    nick: config.nick,
    username: config.username ?? config.nick,
    gecos: config.realname,
    // SASL only as configured: irc-framework would otherwise try the server password as SASL.
    account: sasl?.mechanism === 'PLAIN' ? { account: sasl.account, password: sasl.password } : {},
    ...(sasl?.mechanism === 'EXTERNAL' ? { sasl_mechanism: 'EXTERNAL' } : {}),
    ...(config.server_password ? { password: config.server_password } : {}),
    auto_reconnect: false,
    ping_interval: Math.max(5, Math.round(config.ping_timeout / 4000)),
    ping_timeout: Math.max(10, Math.round(config.ping_timeout / 1000)),
    // No automatic CTCP VERSION replies: anyone could make the bot spend its flood budget.
    version: false,
    transport,
  };
}
