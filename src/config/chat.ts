import { z } from 'zod';
import { discordSchema } from './chat-discord.js';
import { matrixSchema } from './chat-matrix.js';
import { ircSchema } from './chat-irc.js';

/**
 * `chat:` — one key per chat platform. Each platform's options live in their own schema file
 * (`chat-<platform>.ts`) and are added here; a platform is on when its key is set (console: true).
 */
export const chatSchema = z
  .strictObject({
    console: z.boolean().optional(),
    discord: discordSchema.optional(),
    matrix: matrixSchema.optional(),
    irc: ircSchema.optional(),
  })
  .default({});

export type ChatConfig = z.output<typeof chatSchema>;

/** The platform names a `notify[].to` destination may start with (`irc:#room`, or `console`). */
export const PLATFORMS = Object.keys(chatSchema.unwrap().shape) as Array<keyof ChatConfig>;
