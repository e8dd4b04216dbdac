import { z } from 'zod';

/**
 * `chat.discord:` — one Discord bot. The token comes from the environment as `${NAME}`; ids are
 * written in quotes (YAML would read an 18-digit number inexactly). See README, "Discord".
 */

/** A Discord id (snowflake). */
const snowflake = z.union([z.string(), z.number()]).transform((value, ctx) => {
  if (typeof value === 'number') {
    ctx.addIssue({
      code: 'custom',
      message: `write Discord ids in quotes ('${value}' may already have lost digits: YAML reads long numbers inexactly)`,
    });
    return z.NEVER;
  }
  if (!/^\d{17,20}$/.test(value)) {
    ctx.addIssue({
      code: 'custom',
      message: `'${value}' is not a Discord id (17-20 digits; "Copy ID" in Discord)`,
    });
    return z.NEVER;
  }
  return value;
});

export const discordSchema = z.strictObject({
  /** The bot token: `${DISCORD_TOKEN}`. */
  token: z.string().min(1),
  /** Slash commands in every guild (kept in step at start); false removes bbwatch's. */
  slash_commands: z.boolean().default(true),
  /**
   * `!status` typed in channels too, which needs the privileged Message Content intent: `auto`
   * when the Developer Portal has it switched on for the bot, `true` always (the login fails
   * without it), `false` never.
   */
  prefix_commands: z.union([z.boolean(), z.literal('auto')]).default('auto'),
  /** Only these guilds (server ids); default: every guild the bot is in. */
  guilds: z.array(snowflake).min(1).optional(),
  /** Commands cut their replies at this many lines (an embed holds 4096 characters). */
  reply_lines: z.number().int().min(3).max(60).default(20),
  /** The REST API base URL; the gateway URL is asked from it. Change it only for tests or a proxy. */
  api: z
    .url({ protocol: /^https?$/, error: 'must be an http:// or https:// URL' })
    .transform((url) => url.replace(/\/+$/, ''))
    .default('https://discord.com/api'),
});

export type DiscordConfig = z.output<typeof discordSchema>;

/**
 * The Discord adapter's options from `chat.discord` (one mapping for the CLI and the tests; the
 * adapter itself sees no config).
 */
export function discordAdapterOptions(d: DiscordConfig) {
  return {
    token: d.token,
    prefixCommands: d.prefix_commands,
    slashCommands: d.slash_commands,
    ...(d.guilds ? { guilds: d.guilds } : {}),
    lineLimit: d.reply_lines,
    api: d.api,
  };
}
