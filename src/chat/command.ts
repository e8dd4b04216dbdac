import type { ControlView } from '../control/service.js';
import type { TestHistoryView } from '../logs/history.js';
import type { Line, Message } from '../messages/message.js';
import type { FleetView } from '../state/fleet.js';
import { type MastersView, unreachableNote } from '../state/masters.js';
import type { MuteView } from '../notify/mute.js';
import type { SubscriptionsView } from '../notify/subscriptions.js';
import type { WorkersView } from '../workers/monitor.js';
import type { ReportsView } from '../digest/reports.js';
import type { TriageView } from '../tracker/triage.js';
import type { Sender } from './adapter.js';
import type { Permission } from './permissions.js';

/** What an argument names, so platforms with typed options can offer completions; `switch` is on or off. */
export type ArgKind =
  'text' | 'integer' | 'builder' | 'branch' | 'tag' | 'command' | 'test' | 'duration' | 'switch';

/** One argument of a command, for typed-option platforms (Discord slash commands) and help. */
export interface ArgSpec {
  name: string;
  description: string;
  kind: ArgKind;
  required?: boolean;
  /** Takes every remaining word (a builder name with spaces). */
  rest?: boolean;
  choices?: readonly string[];
  /**
   * A named option rather than a position: `--<name> <value>`, or `--<name>` alone for a switch
   * (`--reason "..."`, `--yes`). Typed-option platforms offer it under its name.
   */
  flag?: boolean;
}

/** What the core lends commands beyond the fleet: each command reaches the world only through these. */
export interface CommandViews {
  /** Test history, log analyses and known issues. */
  tests: TestHistoryView;
  /** Force, stop and rebuild on the masters. */
  control: ControlView;
  /** Runtime subscriptions (`!notify`); absent where the bot runs without them (unit tests). */
  subscriptions?: SubscriptionsView;
  /** Room mutes and builder snoozes. */
  mutes?: MuteView;
  /** The masters' workers. */
  workers?: WorkersView;
  /** Digests of the stored history (`!report`). */
  reports?: ReportsView;
  /** The bot's link to each master (following, or unreachable since when and why). */
  masters?: MastersView;
  /** Links to the web dashboard's pages; absent unless `http.public_url` is configured. */
  dashboard?: DashboardLinks;
  /** The issue tracker: suggestions for failing tests and ready-to-file reports. */
  triage?: TriageView;
}

/** Absolute URLs of the dashboard's pages, for replies to end with. */
export interface DashboardLinks {
  /** The fleet grid, filtered like `!status` (branch, tags that must all match, one master). */
  fleet(filter?: { branch?: string; tags?: readonly string[]; master?: string }): string;
  /** The flakiest tests of the last 7 and 30 days. */
  flaky(): string;
  test(name: string): string;
  builder(master: string, name: string): string;
}

/** Everything a command may use: its arguments, who asked, and read access to the fleet. */
export interface CommandContext extends CommandViews {
  /** The arguments after the command name, tokenized. */
  args: string[];
  sender: Sender;
  platform: string;
  room: string;
  isDirect: boolean;
  /** Lines a reply may have here before it should be cut short. */
  lineLimit: number;
  /**
   * How the person asking writes a command (`!`, or `/` after a slash command): a reply that names
   * a command writes it this way (see {@link withCommandPrefix}).
   */
  prefix: string;
  fleet: FleetView;
  commands: readonly Command[];
  can(permission: Permission): boolean;
}

/** A command's metadata, as adapters may see it. */
export interface CommandInfo {
  name: string;
  aliases?: readonly string[];
  /** One line for `!help`. */
  summary: string;
  /** The arguments, as shown after the command name: `[branch|builder|all] [stable|unstable|tier-N]...`. */
  usage: string;
  /** More help lines for `!help <command>`: examples and details. */
  help?: readonly string[];
  /** The arguments as typed options, in order; the words they take are joined into the command line. */
  args?: readonly ArgSpec[];
  permission: Permission;
  /** Every attempt is written to the audit table, refusals included. */
  audited?: boolean;
}

/** A chat command: plain data plus a function from context to a platform-neutral reply. */
export interface Command extends CommandInfo {
  run(ctx: CommandContext): Message | Promise<Message>;
}

export function defineCommand(command: Command): Command {
  return command;
}

/**
 * Help texts name commands as `!name`; this writes them the way the reader invokes commands
 * (`/name` for someone who used a slash command). Only a `!` that starts a word before a command
 * name is touched: "Hello!" and `!=` stay as they are.
 */
export function withCommandPrefix(text: string, prefix: string): string {
  if (prefix === '!') return text;
  return text.replace(/(^|[\s("'`“‘])!(?=[a-z])/g, (_match, before: string) => `${before}${prefix}`);
}

/** The last line of a reply that has a dashboard page: `Dashboard: <url>`. */
export function dashboardLine(url: string): Line {
  return ['Dashboard: ', { text: url, href: url }];
}

/**
 * A line per master the bot cannot reach now ("cpython has been unreachable since 14:02 UTC
 * (12 min): DNS lookup failed"), for replies built from the bot's state: what they show may be
 * out of date. Only the masters named, when given.
 */
export function unreachableLines(ctx: Pick<CommandContext, 'masters'>, only?: readonly string[]): Line[] {
  const now = Date.now();
  return (ctx.masters?.links() ?? [])
    .filter((l) => l.state === 'unreachable' && (!only || only.includes(l.master)))
    .map((l) => [{ text: unreachableNote(l, now), tone: 'warnings' }]);
}
