/**
 * bbwatch commands as Discord slash commands: definitions built from the commands' own metadata
 * (typed options, autocomplete for names the bot knows), and the way back — an invoked command's
 * option values joined into the command line the core's tokenizer reads, each value quoted so a
 * builder name with spaces stays one word.
 */
import { type ArgKind, type ArgSpec, type CommandInfo, withCommandPrefix } from '../../src/chat/command.js';
import { shorten } from '../../src/chat/render-kit.js';

/** Option types of Discord's API (ApplicationCommandOptionType). */
const STRING = 3;
const INTEGER = 4;
const BOOLEAN = 5;

/** Kinds the core can complete from its state. */
const COMPLETED: ReadonlySet<ArgKind> = new Set(['builder', 'branch', 'tag', 'command', 'test']);

export interface OptionJson {
  type: number;
  name: string;
  description: string;
  required?: boolean;
  autocomplete?: boolean;
  choices?: Array<{ name: string; value: string }>;
}

/** A guild chat-input command, as `PUT /applications/{app}/guilds/{guild}/commands` takes it. */
export interface CommandJson {
  type: 1;
  name: string;
  description: string;
  options: OptionJson[];
  /** Guild only: these are guild commands (a direct message to the bot is read as text instead). */
  contexts: number[];
  /** null: every member sees it; bbwatch's own permissions decide who may run it. */
  default_member_permissions: null;
}

const NAME = /^[-_\p{Ll}\p{Lo}\p{N}]{1,32}$/u;

/** A Discord option name for an argument (lower case, no spaces, at most 32). */
export function optionName(arg: ArgSpec): string {
  return (
    arg.name
      .toLowerCase()
      .replace(/[^-_\p{L}\p{N}]+/gu, '-')
      .replace(/^-+|-+$/g, '')
      .slice(0, 32) || 'value'
  );
}

export interface Definitions {
  commands: CommandJson[];
  /** Commands whose names Discord would refuse, left out. */
  skipped: string[];
}

export function slashDefinitions(commands: readonly CommandInfo[]): Definitions {
  const out: CommandJson[] = [];
  const skipped: string[] = [];
  for (const command of commands) {
    if (!NAME.test(command.name) || out.length >= 100) {
      skipped.push(command.name);
      continue;
    }
    out.push({
      type: 1,
      name: command.name,
      // Summaries name other commands as `!force`; here they are slash commands.
      description: describe(withCommandPrefix(command.summary, '/'), command.name),
      options: optionsOf(command.args ?? []),
      contexts: [0],
      default_member_permissions: null,
    });
  }
  return { commands: out, skipped };
}

function describe(text: string, fallback: string): string {
  return shorten(text.replace(/\s+/g, ' ').trim(), 100) || fallback;
}

function optionsOf(args: readonly ArgSpec[]): OptionJson[] {
  const options: OptionJson[] = [];
  const names = new Set<string>();
  // Discord wants required options first; a required argument after an optional one is asked for as optional.
  let optionalSeen = false;
  for (const arg of args.slice(0, 25)) {
    const name = optionName(arg);
    if (names.has(name)) continue;
    names.add(name);
    const required = Boolean(arg.required) && !optionalSeen;
    if (!required) optionalSeen = true;
    const choices = (arg.choices ?? []).filter((c) => c.length >= 1 && c.length <= 100).slice(0, 25);
    const option: OptionJson = {
      type: arg.kind === 'integer' ? INTEGER : arg.kind === 'switch' ? BOOLEAN : STRING,
      name,
      description: describe(arg.description, name),
    };
    if (required) option.required = true;
    if (choices.length > 0) option.choices = choices.map((c) => ({ name: c, value: c }));
    else if (COMPLETED.has(arg.kind)) option.autocomplete = true;
    options.push(option);
  }
  return options;
}

/** A word as the core's tokenizer reads it back: bare when safe, else in double quotes. */
export function quote(word: string): string {
  if (/^[A-Za-z0-9_.,:/@%+=-]+$/.test(word)) return word;
  return `"${word.replace(/["\\]/g, '\\$&')}"`;
}

/**
 * The command line for an invoked slash command: the name, then each argument's value in order —
 * quoted as one word, or for a `rest` argument split into words (`stable tier-1`) — and the named
 * options as `--reason "..."` (a switch that is on as `--yes`).
 */
export function commandLine(
  command: CommandInfo,
  values: ReadonlyMap<string, string | number | boolean>,
): string {
  const words = [command.name];
  const flags: string[] = [];
  for (const arg of command.args ?? []) {
    const value = values.get(optionName(arg));
    if (value === undefined) continue;
    const text = String(value).replace(/[\r\n]+/g, ' ');
    if (arg.flag && arg.kind === 'switch') {
      if (value === true) flags.push(`--${arg.name}`);
    } else if (arg.flag) {
      if (text.trim()) flags.push(`--${arg.name}`, quote(text.trim()));
    } else if (arg.rest) words.push(...text.split(/\s+/).filter(Boolean).map(quote));
    else if (text.trim()) words.push(quote(text.trim()));
  }
  return [...words, ...flags].join(' ');
}

/** Canonical form of a command definition, to tell whether Discord already has the same ones. */
export function canonical(def: {
  name: string;
  description: string;
  type?: number;
  options?: ReadonlyArray<Partial<OptionJson> & { type: number; name: string }>;
  contexts?: readonly number[] | null;
  default_member_permissions?: string | null;
}): string {
  return JSON.stringify({
    name: def.name,
    description: def.description,
    type: def.type ?? 1,
    options: (def.options ?? []).map((o) => ({
      type: o.type,
      name: o.name,
      description: o.description ?? '',
      required: o.required ?? false,
      autocomplete: o.autocomplete ?? false,
      choices: o.choices ?? [],
    })),
    contexts: [...(def.contexts ?? [])].sort(),
    default_member_permissions: def.default_member_permissions ?? null,
  });
}
