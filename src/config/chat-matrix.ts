import { z } from 'zod';

const userId = z.string().regex(/^@[^:\s]+:[^\s]+$/, "must be a Matrix user id like '@bbwatch:example.org'");

const roomRef = z
  .string()
  .regex(/^[!#][^:\s]+:[^\s]+$/, "must be a room id ('!abc:example.org') or alias ('#room:example.org')");

/** A user id (`@alice:example.org`) or a server name (`example.org`: everyone on it). */
const inviter = z
  .string()
  .regex(
    /^(@[^:\s]+:[^\s]+|[A-Za-z0-9.-]+(:\d+)?|\[[0-9A-Fa-f:.]+\](:\d+)?)$/,
    "must be a user id ('@alice:example.org') or a server name ('example.org')",
  );

const level = z
  .number()
  .int()
  .min(-(2 ** 53) + 1)
  .max(2 ** 53 - 1);

/**
 * `chat.matrix`: the bot's account on a homeserver and the rooms it is in. Secrets come from the
 * environment (`access_token: ${MATRIX_TOKEN}`), which the loader interpolates and masks in logs.
 */
export const matrixSchema = z
  .strictObject({
    homeserver: z
      .url({
        protocol: /^https?$/,
        error: (issue) => (issue.input === undefined ? 'is required' : 'must be an http:// or https:// URL'),
      })
      .transform((url) => url.replace(/\/+$/, '')),
    user_id: userId,
    /** An access token, or a password to log in with (the token is then kept in the bot's state). */
    access_token: z.string().min(1).optional(),
    password: z.string().min(1).optional(),
    /** The device name a password login creates. */
    device_name: z.string().min(1).max(100).default('bbwatch'),
    /** Rooms to join at start; rooms named in `notify` are joined too. */
    rooms: z.array(roomRef).default([]),
    /** Whose invites are accepted: user ids and server names. Nobody's by default. */
    invites_from: z.array(inviter).default([]),
    /** The minimum room power level that grants `operate` or `force` in that room, on top of `permissions`. */
    power_levels: z.strictObject({ operate: level.optional(), force: level.optional() }).optional(),
    /** Lines an answer may have before a command cuts it short. */
    line_limit: z.number().int().min(3).max(200).default(25),
  })
  .superRefine((m, ctx) => {
    if ((m.access_token === undefined) === (m.password === undefined)) {
      ctx.addIssue({
        code: 'custom',
        path: m.access_token === undefined ? [] : ['password'],
        message: 'needs exactly one of access_token and password',
      });
    }
  });

export type MatrixConfig = z.output<typeof matrixSchema>;
