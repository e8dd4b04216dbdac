/**
 * Types for the parts of irc-framework 4.14 (CommonJS, ships no types; kiwiirc/irc-framework#166)
 * that the IRC adapter uses. Payloads are as src/commands/handlers/*.js emit them.
 */
declare module 'irc-framework' {
  import type { EventEmitter } from 'node:events';

  /**
   * What irc-framework needs of a transport (src/transports/net.js is the model): it listens for
   * 'open', 'line' (one line, without CR LF) and 'close' (an error or false).
   */
  export interface Transport extends EventEmitter {
    connect(): void;
    writeLine(line: string, cb?: (err?: Error | null) => void): void;
    close(force?: boolean): void;
    disposeSocket(): void;
    setEncoding(encoding: string): boolean;
    isConnected(): boolean;
  }

  export interface ClientOptions {
    host: string;
    port: number;
    nick: string;
    username?: string;
    gecos?: string;
    password?: string;
    account?: { account?: string; password?: string };
    sasl_mechanism?: string;
    sasl_disconnect_on_fail?: boolean;
    auto_reconnect?: boolean;
    ping_interval?: number;
    ping_timeout?: number;
    version?: string | false;
    encoding?: string;
    enable_echomessage?: boolean;
    transport?: new (options: ClientOptions) => Transport;
  }

  export interface MessageEvent {
    nick?: string;
    ident?: string;
    hostname?: string;
    target: string;
    message: string;
    account?: string;
    tags: Record<string, string>;
    from_server?: boolean;
  }
  export interface JoinEvent {
    nick: string;
    ident: string;
    hostname: string;
    channel: string;
    /** With extended-join: the account, or false when not logged in. */
    account?: string | false;
  }
  export interface PartEvent {
    nick: string;
    channel: string;
  }
  export interface KickEvent {
    kicked: string;
    nick: string;
    channel: string;
    message?: string;
  }
  export interface QuitEvent {
    nick: string;
    message?: string;
  }
  export interface NickEvent {
    nick: string;
    new_nick: string;
  }
  export interface ModeEvent {
    target: string;
    nick: string;
    modes: Array<{ mode: string; param?: string }>;
  }
  export interface AccountEvent {
    nick: string;
    account: string | false;
  }
  export interface UserlistEvent {
    channel: string;
    users: Array<{ nick: string; modes: string[] }>;
  }
  export interface WholistEvent {
    target: string;
    users: Array<{ nick: string; account?: string; channel?: string }>;
  }
  export interface WhoisEvent {
    nick: string;
    account?: string;
    error?: string;
  }
  export interface IrcErrorEvent {
    error: string;
    channel?: string;
    nick?: string;
    reason?: string;
  }

  export interface Connection {
    connected: boolean;
    write(line: string, cb?: (err?: Error | null) => void): unknown;
    end(data?: string, hadError?: boolean): void;
  }

  export class Client {
    constructor(options?: Partial<ClientOptions>);
    connect(options?: ClientOptions): void;
    quit(message?: string): void;
    changeNick(nick: string): void;
    join(channel: string, key?: string): void;
    who(target: string, cb: (event: WholistEvent) => void): void;
    whois(nick: string, cb: (event: WhoisEvent) => void): void;
    removeAllListeners(): this;
    readonly connected: boolean;
    connection: Connection;
    user: { nick: string; username: string; host: string };
    network: {
      name: string;
      options: { CASEMAPPING?: string; CHANTYPES?: string[]; USERLEN?: string; HOSTLEN?: string };
      cap: { enabled: string[]; isEnabled(cap: string): boolean };
      supports(feature: string): unknown;
    };

    on(event: 'registered', listener: (e: { nick: string }) => void): this;
    on(event: 'loggedin', listener: (e: { nick: string; account: string }) => void): this;
    /** `message`: the server's words (ERR_SASLFAIL and friends); absent when the client gave up itself. */
    on(event: 'sasl failed', listener: (e: { reason: string; message?: string }) => void): this;
    on(event: 'nick in use' | 'nick invalid', listener: (e: { nick: string; reason: string }) => void): this;
    on(event: 'privmsg' | 'notice', listener: (e: MessageEvent) => void): this;
    /** A numeric or command irc-framework has no handler for (ERR_NOSUCHCHANNEL, ...). */
    on(event: 'unknown command', listener: (e: { command: string; params: string[] }) => void): this;
    /** ERR_LINKCHANNEL: a join was forwarded to another channel. */
    on(event: 'channel_redirect', listener: (e: { from: string; to: string }) => void): this;
    on(event: 'join', listener: (e: JoinEvent) => void): this;
    on(event: 'part', listener: (e: PartEvent) => void): this;
    on(event: 'kick', listener: (e: KickEvent) => void): this;
    on(event: 'quit', listener: (e: QuitEvent) => void): this;
    on(event: 'nick', listener: (e: NickEvent) => void): this;
    on(event: 'mode', listener: (e: ModeEvent) => void): this;
    on(event: 'account', listener: (e: AccountEvent) => void): this;
    on(event: 'users offline', listener: (e: { nicks: string[] }) => void): this;
    on(event: 'server options', listener: () => void): this;
    on(event: 'userlist', listener: (e: UserlistEvent) => void): this;
    on(event: 'irc error', listener: (e: IrcErrorEvent) => void): this;
    on(event: 'close', listener: (hadError: boolean) => void): this;
    on(event: 'ping timeout', listener: () => void): this;
    /** `message`: the PING's token, echoed by the server. */
    on(event: 'pong', listener: (e: { message?: string }) => void): this;
  }

  const irc: { Client: typeof Client };
  export default irc;
}
