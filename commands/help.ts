import type { Command } from '../src/chat/command.js';
import { defineCommand, withCommandPrefix } from '../src/chat/command.js';
import { UserError } from '../src/errors.js';
import { type Line, reply } from '../src/messages/message.js';

export const help = defineCommand({
  name: 'help',
  aliases: ['commands'],
  summary: 'list the commands, or explain one',
  usage: '[command]',
  args: [{ name: 'command', description: 'the command to explain', kind: 'command' }],
  help: ['Example: !help status'],
  permission: 'read',
  run(ctx) {
    const p = ctx.prefix;
    const [wanted] = ctx.args;
    if (wanted) {
      const name = wanted.replace(/^[!/]/, '').toLowerCase();
      const command = ctx.commands.find((c) => c.name === name || c.aliases?.includes(name));
      if (!command) throw new UserError(`There is no command '${name.slice(0, 40)}'. Try ${p}help.`);
      const lines: Line[] = [
        [
          { text: `${p}${command.name} ${command.usage}`.trim(), code: true },
          ` — ${withCommandPrefix(command.summary, p)}`,
        ],
      ];
      if (command.aliases?.length) lines.push([`Also: ${command.aliases.map((a) => p + a).join(', ')}`]);
      if (command.permission !== 'read') {
        lines.push([
          `Needs the '${command.permission}' permission${ctx.can(command.permission) ? ' (you have it)' : ''}.`,
        ]);
      }
      for (const text of command.help ?? []) lines.push([withCommandPrefix(text, p)]);
      return reply(lines);
    }
    const lines: Line[] = ctx.commands.map((c: Command) => [
      { text: `${p}${c.name}`, bold: true },
      c.usage ? ` ${c.usage}` : '',
      ` — ${withCommandPrefix(c.summary, p)}`,
      ctx.can(c.permission) ? '' : ` (needs ${c.permission})`,
    ]);
    lines.push([`${p}help <command> explains one.`]);
    return reply(lines, { title: ['bbwatch commands:'] });
  },
});
