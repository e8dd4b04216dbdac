import type { Logger } from 'pino';
import type { Message } from '../messages/message.js';
import type { ArgKind, CommandInfo } from './command.js';
import type { Permission } from './permissions.js';

/** Who sent a message, as the platform vouches for it. */
export interface Sender {
  /**
   * `<platform>:<id>` as written in `permissions` (`console`, `irc:<services account>`, ...), or
   * undefined when the platform cannot vouch for the sender (e.g. an IRC user not logged in).
   */
  identity: string | undefined;
  /** How to address them in a reply (a nick, a display name). */
  name: string;
  /** More identities the platform vouches for, such as roles (`discord:role:<id>`). */
  roles?: readonly string[];
  /**
   * Permissions the platform grants here by its own rules, as configured for the adapter
   * (a channel operator may `operate`, a Matrix power level may `force`).
   */
  platformGrants?: readonly Permission[];
}

/** A chat message as an adapter hands it to the core: plain data, no platform objects. */
export interface IncomingMessage {
  platform: string;
  /** Where replies go, as a destination string (`console`, `irc:#python-dev`, ...). */
  room: string;
  sender: Sender;
  text: string;
  /** A private conversation with the bot. */
  isDirect: boolean;
  /** Already addressed to the bot (`bbwatch: status`, a private message, a slash command): no `!` needed. */
  addressed: boolean;
  /**
   * How this person writes a command, so that help, usage lines and refusals name commands the way
   * they invoke them: `/` after one of the platform's slash commands; the dispatcher's `!` when
   * absent. Plain text, chosen by the adapter: the core knows no platform.
   */
  commandPrefix?: string;
}

/** Small values an adapter keeps across restarts (a sync token, a resume cursor). */
export interface KeyValueStore {
  get(key: string): string | undefined;
  set(key: string, value: string): void;
}

/** What the core lends an adapter when it starts. */
export interface AdapterServices {
  /** Persistent values, namespaced to this adapter. */
  state: KeyValueStore;
  log: Logger;
  /** Every command's metadata, for platforms that register commands (slash commands). */
  commands: readonly CommandInfo[];
  /** Up to `limit` completions for an argument being typed (autocomplete). */
  complete(kind: ArgKind, prefix: string, limit?: number): string[];
  /**
   * The adapter tells the core it is connected to its platform, the first time and again after an
   * outage (a resumed gateway, a rejoined channel, a sync that works again): what waits in the
   * outbox for it goes out now, not at the next retry.
   */
  connected?(): void;
}

/** What the core needs of a chat platform. Rendering and rate limits are the adapter's business. */
export interface Adapter {
  readonly platform: string;
  /** How many lines a reply may have in a room before a command should cut it short. */
  readonly lineLimit: number;
  start(onMessage: (message: IncomingMessage) => Promise<void>, services: AdapterServices): Promise<void>;
  stop(): Promise<void>;
  /**
   * Sends one message; resolves once the platform accepted it (with the platform's reference to
   * it where the platform can edit messages, for `edit`), rejects if it did not.
   */
  send(room: string, message: Message): Promise<string | void>;
  /**
   * Replaces a message sent before (`ref`: what `send` resolved with) by `message`; resolves once
   * the platform accepted the edit. Only platforms that edit messages have it (Discord, Matrix).
   */
  edit?(room: string, ref: string, message: Message): Promise<void>;
  /** Whether it is connected to its platform now (for /healthz); adapters without it count as connected. */
  isConnected?(): boolean;
}
