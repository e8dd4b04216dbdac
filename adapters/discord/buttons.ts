/**
 * A message's actions (src/messages/message.ts) as Discord buttons, and back: each button's custom
 * id carries the command it stands for, so a click runs that command for the person who clicked,
 * through the same dispatcher and permission check as a typed one. Discord hands back only the
 * custom ids of the bot's own buttons; even so, what comes back is treated as a typed command
 * would be, never as trusted.
 */
import { type APIActionRowComponent, type APIButtonComponent, ButtonStyle, ComponentType } from 'discord.js';
import { cleanText, type Message, shorten } from '../../src/chat/render-kit.js';

/** Discord's limits: 5 rows of 5 buttons, 80 characters a label, 100 a custom id. */
const PER_ROW = 5;
const MAX_ROWS = 5;
const MAX_LABEL = 80;
const MAX_CUSTOM_ID = 100;
const PREFIX = 'bbwatch:run:';

/** The rows of buttons for a message's actions; none when it has none (or none fits a custom id). */
export function renderButtons(message: Message): Array<APIActionRowComponent<APIButtonComponent>> {
  const seen = new Set<string>();
  const buttons: APIButtonComponent[] = [];
  for (const action of message.actions ?? []) {
    const command = cleanText(action.command);
    const customId = `${PREFIX}${command}`;
    // A command too long for a custom id gets no button: its text is in the message's lines.
    if (!command || customId.length > MAX_CUSTOM_ID || seen.has(customId)) continue;
    seen.add(customId);
    buttons.push({
      type: ComponentType.Button,
      style: ButtonStyle.Secondary,
      label: shorten(cleanText(action.label) || command, MAX_LABEL),
      custom_id: customId,
    });
    if (buttons.length >= PER_ROW * MAX_ROWS) break;
  }
  const rows: Array<APIActionRowComponent<APIButtonComponent>> = [];
  for (let i = 0; i < buttons.length; i += PER_ROW)
    rows.push({ type: ComponentType.ActionRow, components: buttons.slice(i, i + PER_ROW) });
  return rows;
}

/** The command a clicked button stands for; undefined for a custom id that is not one of bbwatch's. */
export function buttonCommand(customId: string): string | undefined {
  if (!customId.startsWith(PREFIX)) return undefined;
  const command = cleanText(customId.slice(PREFIX.length));
  return command === '' ? undefined : command;
}
