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
