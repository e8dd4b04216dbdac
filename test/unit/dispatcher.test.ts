import { describe, expect, it } from 'vitest';
import { COMMANDS } from '../../commands/index.js';
import type { IncomingMessage } from '../../src/chat/adapter.js';
import { defineCommand, withCommandPrefix } from '../../src/chat/command.js';
import { Dispatcher } from '../../src/chat/dispatcher.js';
import { tokenize } from '../../src/chat/tokenize.js';
import { MasterError, UserError } from '../../src/errors.js';
import type { MasterLink } from '../../src/state/masters.js';
import { lineText, type Message, reply } from '../../src/messages/message.js';
import { fleetWith, historyWith, controlWith, silentLog } from '../support/fleet.js';
import { openDb } from '../../src/store/db.js';

/** `identity: null` is a sender the platform cannot vouch for. */
function message(text: string, identity: string | null = 'console', addressed = false): IncomingMessage {
  const sender = { identity: identity ?? undefined, name: 'alice' };
  return { platform: 'test', room: 'test:#room', sender, text, isDirect: false, addressed };
}

function text(m: Message | undefined): string {
  if (!m) return '(no reply)';
  return [...(m.title ? [lineText(m.title)] : []), ...m.lines.map(lineText)].join('\n');
}

const boom = defineCommand({
  name: 'boom',
  summary: 'fails',
  usage: '',
  permission: 'read',
  run() {
    throw new Error('secret internals /etc/passwd');
  },
});
const nope = defineCommand({
  name: 'nope',
  summary: 'refuses',
  usage: '<x>',
  permission: 'read',
  run(ctx) {
    if (ctx.args[0] === 'user') throw new UserError('No such thing.');
    return reply([`args=${JSON.stringify(ctx.args)}`]);
  },
});
const forceLike = defineCommand({
  name: 'forcelike',
  summary: 'needs force',
  usage: '',
  permission: 'force',
  run: () => reply(['forced']),
});

const emptyDb = await openDb(':memory:');
const emptyFleet = await fleetWith([], [], 'lab', emptyDb);
const dispatcher = new Dispatcher({
  commands: [...COMMANDS, boom, nope, forceLike],
  fleet: emptyFleet,
  tests: historyWith(emptyDb, emptyFleet).tests,
  control: controlWith(emptyDb, emptyFleet),
  grants: { operate: [], force: ['irc:alice'] },
  log: silentLog,
});

describe('dispatcher', () => {
  it('ignores chatter that is not a command', async () => {
    expect(await dispatcher.handle(message('hello there'), 10)).toBeUndefined();
    expect(await dispatcher.handle(message('!'), 10)).toBeUndefined();
  });

  it('accepts addressed text without the prefix', async () => {
    expect(text(await dispatcher.handle(message('nope a b', 'x', true), 10))).toBe('args=["a","b"]');
  });

  it('tokenizes quoted arguments', async () => {
    expect(text(await dispatcher.handle(message('!nope "a b" \'c d\' e\\ f'), 10))).toBe(
      'args=["a b","c d","e f"]',
    );
    expect(text(await dispatcher.handle(message('!nope "open'), 10))).toBe(
      'Cannot read that: unterminated double quote.',
    );
  });

  it('answers unknown commands with a hint', async () => {
    expect(text(await dispatcher.handle(message('!stauts'), 10))).toBe(
      "Unknown command 'stauts'. Did you mean !status? Try !help.",
    );
    expect(text(await dispatcher.handle(message('!xyzzy'), 10))).toBe("Unknown command 'xyzzy'. Try !help.");
  });

  it('turns usage errors into the usage line and user errors into their text', async () => {
    expect(text(await dispatcher.handle(message('!last'), 10))).toBe(
      'Which builder? Usage: !last <builder> [count]',
    );
    expect(text(await dispatcher.handle(message('!nope user'), 10))).toBe('No such thing.');
  });

  it('never shows internals of an unexpected error', async () => {
    const answer = text(await dispatcher.handle(message('!boom'), 10));
    expect(answer).toBe("Sorry, !boom failed; the details are in the bot's log.");
    expect(answer).not.toContain('passwd');
  });

  it('a command that needed the master says so, and since when the master is away', async () => {
    const askMaster = defineCommand({
      name: 'askmaster',
      summary: 'needs the master',
      usage: '',
      permission: 'read',
      run() {
        throw new MasterError('http://127.0.0.1:9/api/v2/workers could not be reached: ECONNREFUSED');
      },
    });
    const since = Date.now() - 5 * 60_000;
    const links: MasterLink[] = [];
    const withMasters = new Dispatcher({
      commands: [askMaster],
      fleet: emptyFleet,
      tests: historyWith(emptyDb, emptyFleet).tests,
      control: controlWith(emptyDb, emptyFleet),
      masters: { links: () => links },
      grants: { operate: [], force: [] },
      log: silentLog,
    });
    expect(text(await withMasters.handle(message('!askmaster'), 10))).toBe(
      "Sorry, !askmaster could not get an answer from the master; the details are in the bot's log.",
    );
    links.push({
      master: 'lab',
      url: 'http://127.0.0.1:9/',
      state: 'unreachable',
      since,
      reason: 'connection refused',
      everFollowed: true,
    });
    expect(text(await withMasters.handle(message('!askmaster'), 10))).toBe(
      `lab has been unreachable since ${new Date(since).toISOString().slice(11, 16)} UTC (5 min): connection refused\n!askmaster needs the master: try again once it answers.`,
    );
  });

  it('checks permissions by identity, never by name', async () => {
    expect(text(await dispatcher.handle(message('!forcelike', 'irc:alice'), 10))).toBe('forced');
    expect(text(await dispatcher.handle(message('!forcelike', 'irc:mallory'), 10))).toBe(
      "!forcelike needs the 'force' permission.",
    );
    expect(text(await dispatcher.handle(message('!forcelike', null), 10))).toBe(
      "!forcelike needs the 'force' permission (and you are not identified to the network).",
    );
  });

  it('refuses absurdly long input without parsing it', async () => {
    expect(text(await dispatcher.handle(message(`!nope ${'x'.repeat(5000)}`), 10))).toMatch(
      /too long for a command/,
    );
  });

  it('help comes from command metadata and marks what the caller cannot run', async () => {
    const list = text(await dispatcher.handle(message('!help', 'irc:bob'), 10));
    expect(list).toContain('!status [branch|builder text|all] [stable|unstable|tier-N]... — how the fleet');
    expect(list).toContain('!forcelike — needs force (needs force)');
    const one = text(await dispatcher.handle(message('!help last'), 10));
    expect(one).toContain("!last <builder> [count] — a builder's last builds");
    expect(text(await dispatcher.handle(message('!help nosuch'), 10))).toBe(
      "There is no command 'nosuch'. Try !help.",
    );
  });
});

describe('commands named the way the asker invokes them', () => {
  /** As a platform with slash commands hands one over: addressed, with `/` as the person's form. */
  const slash = (line: string, identity: string | null = 'irc:bob'): IncomingMessage => ({
    ...message(line, identity, true),
    commandPrefix: '/',
  });

  it('lists /commands in help for someone who used a slash command, and !commands otherwise', async () => {
    const bySlash = text(await dispatcher.handle(slash('help'), 40)).split('\n');
    expect(bySlash).toContain(
      '/status [branch|builder text|all] [stable|unstable|tier-N]... — how the fleet (or a branch, or some builders) is doing, and which builders are red',
    );
    expect(bySlash).toContain('/help <command> explains one.');
    expect(bySlash.filter((l) => /^!/.test(l))).toEqual([]);
    const byPrefix = text(await dispatcher.handle(message('!help', 'irc:bob'), 40)).split('\n');
    expect(byPrefix).toContain('!help <command> explains one.');
    expect(byPrefix.filter((l) => l.startsWith('/'))).toEqual([]);
  });

  it('writes examples, aliases and summaries of one command in the asker’s form', async () => {
    const force = text(await dispatcher.handle(slash('help force'), 40));
    expect(force).toContain('/force <builder-group|builder>');
    expect(force).toContain('Examples: /force AMD64 Debian root 3.x · /force custom sandbox/myfixes');
    expect(force).toContain('Many builders at once need --yes or a /confirm within a minute.');
    expect(force).not.toMatch(/(^|\s)!\w/);
    const confirm = text(await dispatcher.handle(slash('help confirm'), 40));
    expect(confirm).toContain('— go ahead with the /force that asked for confirmation');
    expect(confirm).toContain('Also: /yes');
  });

  it('refuses with the form used: /force for a slash command, !force for a typed one', async () => {
    expect(text(await dispatcher.handle(slash('forcelike', 'irc:mallory'), 10))).toBe(
      "/forcelike needs the 'force' permission.",
    );
    expect(text(await dispatcher.handle(message('!forcelike', 'irc:mallory'), 10))).toBe(
      "!forcelike needs the 'force' permission.",
    );
  });

  it('gives usage lines and apologies in the form used', async () => {
    expect(text(await dispatcher.handle(slash('last'), 10))).toBe(
      'Which builder? Usage: /last <builder> [count]',
    );
    expect(text(await dispatcher.handle(slash('boom'), 10))).toBe(
      "Sorry, /boom failed; the details are in the bot's log.",
    );
  });

  it('rewrites only a ! that starts a command word', () => {
    expect(withCommandPrefix('Try !help, or say "!status 3.x" (or !why). Hello!', '/')).toBe(
      'Try /help, or say "/status 3.x" (or /why). Hello!',
    );
    expect(withCommandPrefix('a!b x != y !3 !Status', '/')).toBe('a!b x != y !3 !Status');
  });
});

describe('tokenize', () => {
  it('splits on white space and keeps empty quoted words', () => {
    expect(tokenize('  a   b\t"" c ')).toEqual(['a', 'b', '', 'c']);
  });
});
