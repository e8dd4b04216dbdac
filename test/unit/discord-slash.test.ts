import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { canonical, commandLine, optionName, quote, slashDefinitions } from '../../adapters/discord/slash.js';
import { COMMANDS } from '../../commands/index.js';
import type { CommandInfo } from '../../src/chat/command.js';
import { tokenize } from '../../src/chat/tokenize.js';
import { commandProblems } from '../support/discord/validate.js';

const last: CommandInfo = {
  name: 'last',
  summary: "a builder's last builds",
  usage: '<builder> [count]',
  permission: 'read',
  args: [
    { name: 'builder', description: 'the builder', kind: 'builder', required: true },
    { name: 'count', description: 'how many', kind: 'integer' },
  ],
};

const status: CommandInfo = {
  name: 'status',
  summary: 'how the fleet is doing',
  usage: '[branch] [tags]...',
  permission: 'read',
  args: [
    { name: 'which', description: 'a branch', kind: 'branch' },
    { name: 'tags', description: 'stable, tier-1 ...', kind: 'tag', rest: true },
  ],
};

describe('Discord slash commands', () => {
  it('define every bbwatch command the way Discord accepts', () => {
    const { commands, skipped } = slashDefinitions(COMMANDS);
    expect(skipped).toEqual([]);
    expect(commands.map((c) => c.name)).toEqual(COMMANDS.map((c) => c.name));
    for (const command of commands) expect(commandProblems(command, command.name)).toEqual([]);
  });

  it('type options, complete names the bot knows, and offer fixed choices', () => {
    const [def] = slashDefinitions([last]).commands;
    expect(def?.options).toEqual([
      { type: 3, name: 'builder', description: 'the builder', required: true, autocomplete: true },
      { type: 4, name: 'count', description: 'how many' },
    ]);
    const [withChoices] = slashDefinitions([
      { ...last, args: [{ name: 'Speed Mode', description: 'd', kind: 'text', choices: ['fast', 'slow'] }] },
    ]).commands;
    expect(withChoices?.options[0]).toEqual({
      type: 3,
      name: 'speed-mode',
      description: 'd',
      choices: [
        { name: 'fast', value: 'fast' },
        { name: 'slow', value: 'slow' },
      ],
    });
  });

  it('ask a required argument after an optional one as optional (Discord wants required first)', () => {
    const [def] = slashDefinitions([
      {
        ...last,
        args: [
          { name: 'a', description: 'a', kind: 'text' },
          { name: 'b', description: 'b', kind: 'text', required: true },
        ],
      },
    ]).commands;
    expect(def?.options.map((o) => o.required ?? false)).toEqual([false, false]);
    expect(commandProblems(def as never)).toEqual([]);
  });

  it('leave out commands whose names Discord refuses', () => {
    const { commands, skipped } = slashDefinitions([last, { ...last, name: 'Last Builds' }]);
    expect(commands.map((c) => c.name)).toEqual(['last']);
    expect(skipped).toEqual(['Last Builds']);
  });

  it('build the command line with each value one word, and a rest argument as several', () => {
    expect(
      commandLine(
        last,
        new Map<string, string | number>([
          ['builder', 'AMD64 Debian root 3.x'],
          ['count', 5],
        ]),
      ),
    ).toBe('last "AMD64 Debian root 3.x" 5');
    expect(commandLine(status, new Map([['tags', ' stable  tier-1 ']]))).toBe('status stable tier-1');
    expect(
      tokenize(
        commandLine(
          status,
          new Map([
            ['which', '3.x'],
            ['tags', 'stable "x y'],
          ]),
        ),
      ),
    ).toEqual(['status', '3.x', 'stable', '"x', 'y']);
  });

  it('offer named options (--reason, --yes) as options, and give them back as the core reads them', () => {
    const force = COMMANDS.find((c) => c.name === 'force');
    if (!force) throw new Error('no force command');
    const [def] = slashDefinitions([force]).commands;
    expect(def?.options.slice(-2)).toEqual([
      { type: 3, name: 'reason', description: 'why, for the master and its audit trail' },
      { type: 5, name: 'yes', description: 'go ahead without confirming, however many builders' },
    ]);
    const line = commandLine(
      force,
      new Map<string, string | number | boolean>([
        ['target', 'custom'],
        ['reason', 'try "the" fix'],
        ['yes', true],
        ['repository', 'sandbox/myfixes'],
        ['branch', 'main'],
      ]),
    );
    expect(tokenize(line)).toEqual([
      'force',
      'custom',
      'sandbox/myfixes',
      'main',
      '--reason',
      'try "the" fix',
      '--yes',
    ]);
    expect(
      commandLine(
        force,
        new Map<string, string | boolean>([
          ['target', 'custom'],
          ['yes', false],
        ]),
      ),
    ).toBe('force custom');
  });

  it('give the core back exactly the value typed, whatever it contains', () => {
    fc.assert(
      fc.property(fc.string({ minLength: 1, maxLength: 100 }), (value) => {
        const typed = value.replace(/[\r\n]+/g, ' ').trim();
        fc.pre(typed.length > 0);
        expect(
          tokenize(
            commandLine(
              last,
              new Map([[optionName({ name: 'builder', description: '', kind: 'builder' }), value]]),
            ),
          ),
        ).toEqual(['last', typed]);
        expect(tokenize(quote(typed))).toEqual([typed]);
      }),
    );
  });

  it('recognise the definitions Discord echoes back, so unchanged commands are not written again', () => {
    const [def] = slashDefinitions([last]).commands;
    if (!def) throw new Error('no definition');
    // Discord's answer adds ids and versions and leaves out false flags.
    const echoed = {
      ...def,
      id: '1',
      application_id: '2',
      version: '3',
      nsfw: false,
      options: def.options.map((o) => ({ ...o })),
    };
    expect(canonical(echoed)).toBe(canonical(def));
    expect(canonical({ ...echoed, description: 'changed' })).not.toBe(canonical(def));
  });
});
