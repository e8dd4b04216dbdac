// Test-only: preloaded into the real bbwatch CLI (`node --import`) by the IRC integration tests.
// No command needs the `operate` permission yet, so this adds one, `!proof`, that answers with
// the identity and platform grants the bot saw: whether a user may operate becomes visible in chat
// (`!help` marks it "(needs operate)" for those who may not; running it either answers or is refused).
import { COMMANDS } from '../../../dist/commands/index.js';

COMMANDS.push({
  name: 'proof',
  summary: 'test only: shows who you are to the bot, if you may operate',
  usage: '',
  permission: 'operate',
  run(ctx) {
    const grants = (ctx.sender.platformGrants ?? []).join(',') || 'none';
    return {
      kind: 'reply',
      lines: [
        [`proof: may operate as ${ctx.sender.identity ?? 'not identified'}, platform grants ${grants}`],
      ],
    };
  },
});
