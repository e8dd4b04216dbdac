import { z } from 'zod';
import { parseDuration } from '../duration.js';

/**
 * `chat.irc:` — one IRC network. Secrets (SASL or NickServ password, server password) come from
 * the environment as `${NAME}`. Durations are parsed to milliseconds. See README, "IRC".
 */

const duration = z.union([z.string(), z.number()]).transform((value, ctx) => {
  const ms = typeof value === 'number' ? value : parseDuration(value);
  if (ms === undefined || !Number.isFinite(ms) || ms < 0) {
    ctx.addIssue({ code: 'custom', message: `'${value}' is not a duration (write e.g. 500ms, 1s, 5m)` });
    return z.NEVER;
  }
  return ms;
});

/** RFC 2812 nick characters (letters, digits, []\`_^{|}-), not starting with a digit or '-'. */
const nick = z
  .string()
  .regex(
    /^[A-Za-z[\]\\`_^{|}][A-Za-z0-9[\]\\`_^{|}-]{0,29}$/,
    'is not a valid IRC nick (letters, digits, _-[]{}|^`\\, at most 30)',
  );

const channelName = z
  .string()
  .regex(
    /^[#&][^\s,\x00-\x1f\x7f]{1,49}$/,
    'is not a channel name (write it with its #, e.g. "#python-dev")',
  );

const channel = z
  .union([channelName, z.strictObject({ name: channelName, key: z.string().min(1).optional() })])
  .transform((c) => (typeof c === 'string' ? { name: c } : c));

/** A value written into IRC lines: no spaces-only, no line breaks. */
const word = z
  .string()
  .regex(/^[^\s\x00-\x1f\x7f]+$/, 'must be one word without spaces or control characters');

export const ircSchema = z
  .strictObject({
    host: z.string().min(1),
    /** Default 6697 with TLS, 6667 without. */
    port: z.number().int().min(1).max(65535).optional(),
    tls: z.boolean().default(true),
    /** Check the server's certificate chain and name. Turning it off is logged as a warning. */
    tls_verify: z.boolean().default(true),
    /** A PEM file with the CA(s) to trust instead of the system's (a private network). */
    tls_ca: z.string().min(1).optional(),
    /** PEM files of a client certificate: SASL EXTERNAL, or CertFP with NickServ. */
    client_cert: z.strictObject({ cert: z.string().min(1), key: z.string().min(1) }).optional(),
    /** Sent as PASS (a bouncer or a private server). */
    server_password: z.string().min(1).optional(),
    nick: nick.default('bbwatch'),
    /** Tried in order when the nick is taken; then the nick with digits. */
    alt_nicks: z.array(nick).default([]),
    username: word.optional(),
    realname: z
      .string()
      .regex(/^[^\x00-\x1f\x7f]{1,100}$/, 'must be 1-100 characters without control characters')
      .default('bbwatch: Buildbot notifications'),
    sasl: z
      .strictObject({
        mechanism: z.enum(['PLAIN', 'EXTERNAL']).default('PLAIN'),
        account: word.optional(),
        password: z.string().min(1).optional(),
      })
      .optional(),
    /** Identify with NickServ after connecting when SASL is not configured or the server lacks it. */
    nickserv: z.strictObject({ account: word.optional(), password: word }).optional(),
    channels: z.array(channel).default([]),
    /** Channel operators (@ and above) may run `operate` commands in their channel. */
    ops_operate: z.boolean().default(false),
    announce_as: z.enum(['privmsg', 'notice']).default('privmsg'),
    /** mIRC colours and bold for results and builder names; false sends plain text. */
    colours: z.boolean().default(true),
    /** At most this many lines per announcement. */
    announce_lines: z.number().int().min(1).max(20).default(4),
    /** More announcements than this to one channel within `compact_window` are sent as one line each. */
    compact_after: z.number().int().min(0).max(1000).default(3),
    compact_window: duration.default(60_000),
    /** A reply longer than this goes to the asker by private message, with a pointer in the channel. */
    channel_reply_lines: z.number().int().min(1).max(50).default(4),
    /** Commands cut their replies at this many lines. */
    reply_lines: z.number().int().min(1).max(200).default(20),
    /** Outbound flood control: `burst` lines at once, then one line per `interval`. */
    flood: z
      .strictObject({
        burst: z.number().int().min(1).max(100).default(4),
        interval: duration.default(1000),
      })
      .default({ burst: 4, interval: 1000 }),
    /** Waits between reconnect attempts: doubling from `min` up to `max`, with jitter. */
    reconnect: z
      .strictObject({ min: duration.default(2000), max: duration.default(300_000) })
      .default({ min: 2000, max: 300_000 }),
    /** No data from the server for this long: the connection is dead, reconnect. */
    ping_timeout: duration.default(120_000),
  })
  .superRefine((irc, ctx) => {
    const sasl = irc.sasl;
    if (sasl?.mechanism === 'PLAIN' && (!sasl.account || !sasl.password)) {
      ctx.addIssue({
        code: 'custom',
        path: ['sasl'],
        message: 'PLAIN needs account and password (e.g. password: "${IRC_PASSWORD}")',
      });
    }
    if (sasl?.mechanism === 'EXTERNAL' && !irc.client_cert) {
      ctx.addIssue({ code: 'custom', path: ['sasl'], message: 'EXTERNAL needs client_cert: {cert, key}' });
    }
    if (irc.reconnect.min > irc.reconnect.max) {
      ctx.addIssue({ code: 'custom', path: ['reconnect'], message: 'min must not be larger than max' });
    }
    if (irc.flood.interval < 1) {
      ctx.addIssue({ code: 'custom', path: ['flood', 'interval'], message: 'must be at least 1ms' });
    }
  });

export type IrcConfig = z.output<typeof ircSchema>;
