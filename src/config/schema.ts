import { z } from 'zod';
import { parseDuration } from '../duration.js';
import { isTimeZone, parseCron } from '../digest/cron.js';
import { chatSchema } from './chat.js';
import { patternProblem } from './pattern.js';

/** A duration written `30s`, `15m`, `2h` or `1d`, parsed to milliseconds. */
const duration = z.union([z.string(), z.number()]).transform((value, ctx) => {
  const ms = typeof value === 'number' ? value : parseDuration(value);
  if (ms === undefined || !Number.isFinite(ms) || ms < 0) {
    ctx.addIssue({ code: 'custom', message: `'${value}' is not a duration (write e.g. 30s, 15m, 2h, 1d)` });
    return z.NEVER;
  }
  return ms;
});

const regex = z.string().superRefine((value, ctx) => {
  const problem = patternProblem(value);
  if (problem) ctx.addIssue({ code: 'custom', message: `not a valid regular expression: ${problem}` });
});

/**
 * What a destination may ask to hear about: builder transitions (failure, exception, recovery)
 * and what the test log adds (newfailure: still red, with a new failing test; flaky: orange
 * because a test passed only on re-run).
 * `worker` (opt-in): a worker gone longer than `workers.grace`, and its return.
 * `infra`: a red build whose failure is not a test's (compile, checkout, lost worker, a kill for
 * silence or time, full disk), and its recovery; a rule with `worker` hears it too
 * (src/notify/subscriptions.ts). Those reds are not `failure`.
 */
export const NOTIFY_EVENTS = [
  'failure',
  'exception',
  'recovery',
  'newfailure',
  'flaky',
  'worker',
  'infra',
] as const;
export type NotifyEvent = (typeof NOTIFY_EVENTS)[number];

const httpUrl = z
  .url({
    protocol: /^https?$/,
    error: (issue) => (issue.input === undefined ? 'is required' : 'must be an http:// or https:// URL'),
  })
  .transform((url) => (url.endsWith('/') ? url : `${url}/`));

export const masterSchema = z.strictObject({
  name: z
    .string()
    .regex(/^[A-Za-z0-9_.-]{1,40}$/, 'must be 1-40 letters, digits, dots, dashes or underscores'),
  url: httpUrl,
  stream: z.enum(['auto', 'ws', 'sse', 'poll']).default('auto'),
  /** One budget for every request bbwatch makes to this master. */
  request_budget: z
    .strictObject({
      requests: z.number().int().min(1).max(1000).default(50),
      per: duration.default(10_000),
    })
    .default({ requests: 50, per: 10_000 }),
  timeout: duration.default(20_000),
  /**
   * How long a WebSocket may go without a word (pings unanswered) before it counts as dead and is
   * reopened, with a back-fill: a half-open link never errors by itself. Pings go out three times
   * within it.
   */
  stream_silence: duration.refine((ms) => ms >= 3_000, 'must be at least 3s').default(70_000),
  /** Completed builds kept per builder, in memory and in SQLite. */
  history: z.number().int().min(2).max(500).default(20),
  /** How often REST is asked for finished builds: always in poll mode, as a safety net otherwise. */
  poll_interval: duration.default(30_000),
  /**
   * How the bot logs in: for force, stop and rebuild, and to read a master that refuses anonymous
   * reads (a Buildbot user, or a session cookie; see BuildbotSession).
   */
  auth: z
    .union(
      [
        z.strictObject({ username: z.string().min(1), password: z.string().min(1) }),
        z.strictObject({ cookie: z.string().min(1) }),
      ],
      { error: 'must be { username, password } or { cookie }' },
    )
    .optional(),
  /** Forcing builds from chat: where repositories may come from, and when to ask first. */
  force: z
    .strictObject({
      /** `sandbox/myfixes` → `<repositoryBase>sandbox/myfixes`; without it, no repository may be given. */
      repositoryBase: httpUrl.optional(),
      repositoryPattern: regex.default('^[A-Za-z0-9_.-]+(/[A-Za-z0-9_.-]+)*$'),
      /** More builders than this need `--yes` or a `!confirm` within a minute. */
      confirmAbove: z.number().int().min(0).default(5),
      /** Per identity: at most `count` force/stop/rebuild requests in `per`. */
      rateLimit: z
        .strictObject({ count: z.number().int().min(1).default(5), per: duration.default(600_000) })
        .default({ count: 5, per: 600_000 }),
    })
    .default({
      repositoryPattern: '^[A-Za-z0-9_.-]+(/[A-Za-z0-9_.-]+)*$',
      confirmAbove: 5,
      rateLimit: { count: 5, per: 600_000 },
    }),
  /** Where the test output is: the step's name and the log's slug. */
  logs: z
    .strictObject({
      step: z
        .string()
        .regex(/^[a-zA-Z_-][a-zA-Z0-9_-]{0,49}$/, 'must be a Buildbot step name (letters, digits, _ and -)'),
      log: z
        .string()
        .regex(/^[a-zA-Z_-][a-zA-Z0-9_-]{0,49}$/, 'must be a Buildbot log slug (letters, digits, _ and -)'),
    })
    .default({ step: 'test', log: 'stdio' }),
  reconcile_interval: duration.default(300_000),
});

const ruleSchema = z.strictObject({
  to: z.string().min(1),
  events: z.array(z.enum(NOTIFY_EVENTS)).min(1).default(['failure']),
  masters: z.array(z.string()).optional(),
  branches: z.array(z.string()).optional(),
  tags: z.array(z.string()).optional(),
  builders: regex.optional(),
});

const digestSchema = z.strictObject({
  to: z.string().min(1),
  cron: z.string().superRefine((value, ctx) => {
    try {
      parseCron(value);
    } catch (err) {
      ctx.addIssue({ code: 'custom', message: (err as Error).message });
    }
  }),
  /** The time zone of `cron` (an IANA name); the bot's local time without it. */
  timezone: z
    .string()
    .refine(isTimeZone, 'is not a time zone (an IANA name such as Europe/Berlin or UTC)')
    .optional(),
  days: z.number().int().min(1).max(365).default(7),
});

const permissionsSchema = z
  .strictObject({
    operate: z.array(z.string()).default([]),
    force: z.array(z.string()).default([]),
  })
  .default({ operate: [], force: [] });

/**
 * The issue tracker (GitHub): where `!file` files and, when `search` is on, where failing tests
 * are looked up for suggestions. Without the section, `!file` files on python/cpython and nothing
 * is searched.
 */
export const trackerSchema = z.strictObject({
  repo: z
    .string()
    .regex(/^[A-Za-z0-9_.-]+\/[A-Za-z0-9_.-]+$/, 'must be owner/name (python/cpython)')
    .default('python/cpython'),
  /** A GitHub token (write `${GITHUB_TOKEN}`): optional; the search API allows 30 searches a minute with one, 10 without. */
  token: z.string().min(1).optional(),
  api_url: httpUrl.default('https://api.github.com/'),
  web_url: httpUrl.default('https://github.com/'),
  /** Look failing tests up in the tracker and suggest the matching issues. */
  search: z.boolean().default(true),
  /** Searches allowed per window; default 25 a minute with a token, 9 without. */
  budget: z
    .strictObject({ requests: z.number().int().min(1).max(1000), per: duration.default(60_000) })
    .optional(),
  timeout: duration.default(5_000),
  /** How long a failure's details message waits for suggestions before it goes without them. */
  wait: duration.default(3_000),
  cache_ttl: duration.default(600_000),
  /** Labels of a `!file` issue, plus the version label of the builder's branch. */
  labels: z.array(z.string().min(1).max(50)).default(['tests', 'type-bug']),
  /** The version label of a branch that is not a version (`3.x: "3.15"`); a version branch labels itself. */
  versions: z.record(z.string(), z.string()).default({}),
});

export type TrackerConfig = z.output<typeof trackerSchema>;

export const configSchema = z
  .strictObject({
    masters: z.array(masterSchema).min(1, 'at least one master is needed'),
    storage: z.string().min(1).default('./bbwatch.sqlite'),
    /**
     * A PostgreSQL database to keep the state in instead of `storage` (a postgres:// URL; write
     * `${ENV}` to keep the password out of the file). Two processes may then share it: one leads.
     */
    postgres: z
      .string()
      .regex(/^postgres(ql)?:\/\/\S+$/, 'must be a postgres:// or postgresql:// URL')
      .optional(),
    /**
     * How long a store call may wait before it fails (and is tried again later), so that a stalled
     * database cannot hold the bot: PostgreSQL's per-session timeouts, SQLite's busy timeout.
     */
    store: z
      .strictObject({
        statement_timeout: duration.default(5_000),
        lock_timeout: duration.default(3_000),
        idle_in_transaction_timeout: duration.default(10_000),
        busy_timeout: duration.default(5_000),
      })
      .default({
        statement_timeout: 5_000,
        lock_timeout: 3_000,
        idle_in_transaction_timeout: 10_000,
        busy_timeout: 5_000,
      }),
    chat: chatSchema,
    notify: z.array(ruleSchema).optional(),
    permissions: permissionsSchema,
    announce: z
      .strictObject({
        /** Transitions found after downtime that are older than this are recorded, not announced. */
        max_age: duration.default(3 * 3_600_000),
        /**
         * A red build that fails for the same reason (test and normalised error line) as a group
         * announced at a destination, whose first build finished at most this long before, joins
         * that group (its message edited, or an "also on" line) instead of being announced on its
         * own. 0 turns grouping off.
         */
        group_window: duration.default(30 * 60_000),
        /**
         * A builder of a group (two or more builders red for one failure) that turns green again
         * is named in one "recovered: X, Y (test)" line with the group's others: sent once every
         * builder of the group is green again, or when the first of them has waited this long.
         * 0: every recovery on its own.
         */
        recovery_hold: duration.default(60 * 60_000),
        /** Gone (the burst window held reds for up to 2 min): accepted, with a warning, and ignored. */
        burst_window: duration.optional(),
        /**
         * `followup`: a red build is announced the moment it finishes, and what its test log and
         * changes say follows in a second message once read. `inline`: one message, sent when both
         * are known (usually a fraction of a second later; up to a minute for a slow log).
         */
        details: z.enum(['followup', 'inline']).default('followup'),
      })
      .default({
        max_age: 3 * 3_600_000,
        group_window: 30 * 60_000,
        recovery_hold: 60 * 60_000,
        details: 'followup',
      }),
    log_level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
    /** The operations endpoint (/healthz, /metrics) and the dashboard; off unless configured. */
    http: z
      .strictObject({
        listen: z.string().min(1).default('127.0.0.1'),
        port: z.number().int().min(0).max(65535),
        /** Where people reach the dashboard (a reverse proxy): chat replies and digests link to it. */
        public_url: httpUrl.optional(),
      })
      .optional(),
    /** Scheduled digests: to a destination, on a cron schedule, over the last `days`. */
    digest: z.array(digestSchema).default([]),
    /** `!mute` without a duration mutes this long; no mute or snooze may be longer than `max`. */
    mute: z
      .strictObject({ default: duration.default(3_600_000), max: duration.default(7 * 86_400_000) })
      .default({ default: 3_600_000, max: 7 * 86_400_000 }),
    /** A worker gone this long is announced (event `worker`); a shorter absence is not. */
    workers: z.strictObject({ grace: duration.default(300_000) }).default({ grace: 300_000 }),
    tracker: trackerSchema.optional(),
  })
  .superRefine((config, ctx) => {
    const names = new Set<string>();
    config.masters.forEach((m, i) => {
      if (names.has(m.name)) {
        ctx.addIssue({ code: 'custom', path: ['masters', i, 'name'], message: `'${m.name}' is used twice` });
      }
      names.add(m.name);
    });
    (config.notify ?? []).forEach((rule, i) => {
      for (const master of rule.masters ?? []) {
        if (!names.has(master)) {
          ctx.addIssue({
            code: 'custom',
            path: ['notify', i, 'masters'],
            message: `no master is named '${master}'`,
          });
        }
      }
    });
  });

export type RawConfig = z.input<typeof configSchema>;
export type ParsedConfig = z.output<typeof configSchema>;
export type MasterConfig = z.output<typeof masterSchema>;
export type NotifyRule = z.output<typeof ruleSchema>;
