import type { Logger } from 'pino';
import { BbwatchError, HttpError, MasterError, PermissionError, UsageError } from '../errors.js';
import { type Message, reply } from '../messages/message.js';
import type { FleetView } from '../state/fleet.js';
import type { IncomingMessage } from './adapter.js';
import { type Command, type CommandContext, type CommandViews, unreachableLines } from './command.js';
import { isAllowed, type Permission, type PermissionGrants } from './permissions.js';
import { tokenize } from './tokenize.js';

/** Longer input is refused before it is parsed: nobody types a 2 KB command. */
const MAX_INPUT = 1000;

export interface DispatcherOptions extends CommandViews {
  commands: readonly Command[];
  fleet: FleetView;
  grants: PermissionGrants;
  /** Called when an audited command is refused for lack of permission. */
  onRefused?: (command: Command, message: IncomingMessage) => void;
  log: Logger;
  prefix?: string;
}

/**
 * Turns a chat message into a command's reply: tokenizes, finds the command, checks the
 * permission once, runs it, and turns errors into short replies (usage, the user error's text,
 * or a generic apology with the details in the log).
 */
export class Dispatcher {
  readonly prefix: string;
  private readonly byName = new Map<string, Command>();

  /** Who may do what; replaced when the config is reloaded. */
  setGrants(grants: PermissionGrants): void {
    this.opts.grants = grants;
  }

  constructor(private readonly opts: DispatcherOptions) {
    this.prefix = opts.prefix ?? '!';
    for (const command of opts.commands) {
      for (const name of [command.name, ...(command.aliases ?? [])]) {
        if (this.byName.has(name)) throw new Error(`two commands are called ${name}`);
        this.byName.set(name, command);
      }
    }
  }

  find(name: string): Command | undefined {
    return this.byName.get(name.toLowerCase());
  }

  /** The reply to a message, or undefined when the message is not a command for the bot. */
  async handle(message: IncomingMessage, lineLimit: number): Promise<Message | undefined> {
    let text = message.text.trim();
    if (text.startsWith(this.prefix)) text = text.slice(this.prefix.length);
    else if (!message.addressed) return undefined;
    if (text.trim() === '') return undefined;
    if (text.length > MAX_INPUT)
      return reply([`That is too long for a command (${text.length} characters).`]);

    let words: string[];
    try {
      words = tokenize(text);
    } catch (err) {
      return reply([`Cannot read that: ${(err as Error).message}.`]);
    }
    const [name = '', ...args] = words;
    // Replies name commands the way this person invokes them (`/status` after a slash command).
    const prefix = message.commandPrefix ?? this.prefix;
    const command = this.find(name);
    if (!command) {
      const hint = this.suggest(name);
      return reply([
        `Unknown command '${name.slice(0, 40)}'.${hint ? ` Did you mean ${prefix}${hint}?` : ''} Try ${prefix}help.`,
      ]);
    }
    const can = (permission: Permission) => isAllowed(this.opts.grants, message.sender, permission);
    if (!can(command.permission)) {
      this.opts.log.info(
        { command: command.name, identity: message.sender.identity, room: message.room },
        'permission refused',
      );
      if (command.audited) this.opts.onRefused?.(command, message);
      return reply(
        [
          `${prefix}${command.name} needs the '${command.permission}' permission${
            message.sender.identity ? '' : ' (and you are not identified to the network)'
          }.`,
        ],
        { private: true },
      );
    }
    const ctx: CommandContext = {
      args,
      sender: message.sender,
      platform: message.platform,
      room: message.room,
      isDirect: message.isDirect,
      lineLimit,
      prefix,
      fleet: this.opts.fleet,
      tests: this.opts.tests,
      control: this.opts.control,
      ...(this.opts.subscriptions ? { subscriptions: this.opts.subscriptions } : {}),
      ...(this.opts.mutes ? { mutes: this.opts.mutes } : {}),
      ...(this.opts.workers ? { workers: this.opts.workers } : {}),
      ...(this.opts.masters ? { masters: this.opts.masters } : {}),
      ...(this.opts.reports ? { reports: this.opts.reports } : {}),
      ...(this.opts.dashboard ? { dashboard: this.opts.dashboard } : {}),
      ...(this.opts.triage ? { triage: this.opts.triage } : {}),
      commands: this.opts.commands,
      can,
    };
    try {
      return await command.run(ctx);
    } catch (err) {
      if (err instanceof UsageError) {
        const sentence = /[.?!]$/.test(err.message) ? err.message : `${err.message}.`;
        return reply([`${sentence} Usage: ${prefix}${command.name} ${command.usage}`.trimEnd()]);
      }
      if (err instanceof PermissionError) return reply([err.message], { private: true });
      if (err instanceof BbwatchError && err.forUser) return reply([err.message]);
      if (err instanceof MasterError || err instanceof HttpError) {
        // The master did not answer as needed: say so plainly, and since when when it is away.
        this.opts.log.warn({ command: command.name, args, err: err.message }, 'command needed the master');
        const down = unreachableLines(ctx);
        const ask = `${this.prefix}${command.name}`;
        return reply(
          down.length > 0
            ? [...down, [`${ask} needs the master: try again once it answers.`]]
            : [`Sorry, ${ask} could not get an answer from the master; the details are in the bot's log.`],
        );
      }
      this.opts.log.error(
        { command: command.name, args, err: err instanceof Error ? err.stack : String(err) },
        'command failed',
      );
      const code = err instanceof BbwatchError ? ` (${err.code})` : '';
      return reply([`Sorry, ${prefix}${command.name} failed${code}; the details are in the bot's log.`]);
    }
  }

  private suggest(name: string): string | undefined {
    const lower = name.toLowerCase();
    let best: { name: string; distance: number } | undefined;
    for (const candidate of this.byName.keys()) {
      const distance = editDistance(lower, candidate);
      if (distance <= 2 && (!best || distance < best.distance)) best = { name: candidate, distance };
    }
    return best?.name;
  }
}

function editDistance(a: string, b: string): number {
  if (Math.abs(a.length - b.length) > 2) return 3;
  let prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      row[j] = Math.min(
        (prev[j] as number) + 1,
        (row[j - 1] as number) + 1,
        (prev[j - 1] as number) + (a[i - 1] === b[j - 1] ? 0 : 1),
      );
    }
    prev = row;
  }
  return prev[b.length] as number;
}
