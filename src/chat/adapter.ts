import type { Message } from '../messages/message.js';

/** Who sent a message, as the platform vouches for it. */
export interface Sender {
  /**
   * `<platform>:<id>` as written in `permissions` (`console`, `irc:<services account>`, ...), or
   * undefined when the platform cannot vouch for the sender (e.g. an IRC user not logged in).
   */
  identity: string | undefined;
  /** How to address them in a reply (a nick, a display name). */
  name: string;
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
  /** Already addressed to the bot (`bbwatch: status`, a private message): no `!` needed. */
  addressed: boolean;
}

/** What the core needs of a chat platform. Rendering and rate limits are the adapter's business. */
export interface Adapter {
  readonly platform: string;
  /** How many lines a reply may have in a room before a command should cut it short. */
  readonly lineLimit: number;
  start(onMessage: (message: IncomingMessage) => Promise<void>): Promise<void>;
  stop(): Promise<void>;
  /** Sends one message; resolves once the platform accepted it, rejects if it did not. */
  send(room: string, message: Message): Promise<void>;
}
