/**
 * The bot's connection to Discord: a discord.js client, logged in with retries while Discord cannot
 * be reached, whose gateway state (up, resuming, gone for good) is tracked so that sends can fail
 * fast while it is down. discord.js itself reconnects and resumes once logged in.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import {
  type APIApplication,
  Client,
  Events,
  IntentsBitField,
  Options,
  Partials,
  RESTEvents,
  type RateLimitData,
  Routes,
} from 'discord.js';
import type { AdapterServices } from '../../src/chat/adapter.js';
import { retry } from '../../src/chat/retry.js';
import { LoginGuard } from './login-guard.js';

export interface ConnectionOptions {
  token: string;
  api: string;
  /**
   * The gateway intents; or how to choose them from the application as Discord describes it
   * (`GET /applications/@me`: its flags say which privileged intents the Developer Portal allows),
   * asked for before the first login.
   */
  intents: number | ((application: Pick<APIApplication, 'flags'>) => number);
  log: AdapterServices['log'];
  state: AdapterServices['state'];
  /** Called each time the gateway is up again (ready, or resumed) after being down. */
  onUp?: () => void;
}

/** How long open() waits for the first connection before letting the bot run on and retrying. */
const START_WAIT_MS = 20_000;

/** Gateway close codes after which discord.js gives up, with what the operator should do. */
const FATAL_CLOSE: Record<number, string> = {
  4004: 'the token was refused (reset in the Developer Portal?)',
  4013: 'invalid intents',
  4014: 'the Message Content intent is not enabled for this bot in the Developer Portal (prefix_commands: true needs it; auto does without)',
};

export class DiscordConnection {
  readonly client: Client;
  private up = false;
  private closed = false;
  /** Discord refused the bot for good (token, intents): no more logins until a restart. */
  private gaveUp = false;
  private readonly closing = new AbortController();
  private readonly ready: Promise<void>;
  private markReady: () => void = () => undefined;
  private readonly refused: Promise<never>;
  private refuse: (err: Error) => void = () => undefined;
  private intentsChosen = false;

  constructor(private readonly opts: ConnectionOptions) {
    this.ready = new Promise((resolve) => (this.markReady = resolve));
    this.refused = new Promise((_resolve, reject) => (this.refuse = reject));
    this.refused.catch(() => undefined); // awaited in open(); later refusals are logged where they happen
    this.client = new Client({
      intents: typeof opts.intents === 'number' ? opts.intents : 0,
      // A direct message arrives in a DM channel discord.js has not seen (Discord sends no
      // CHANNEL_CREATE for DMs): without this partial, discord.js drops the message.
      partials: [Partials.Channel],
      rest: { api: opts.api },
      allowedMentions: { parse: [], repliedUser: false },
      failIfNotExists: false,
      // Messages are read once as they arrive, never looked up later.
      makeCache: Options.cacheWithLimits({ ...Options.DefaultMakeCacheSettings, MessageManager: 0 }),
    });
    this.watch();
  }

  /** Whether the gateway is connected (sending announcements is worth trying). */
  get connected(): boolean {
    return this.up;
  }

  /**
   * Logs in. Resolves once connected, or after a while still trying in the background (the bot runs
   * on; announcements wait in the outbox). Rejects when Discord refuses the token or the intents.
   */
  async open(): Promise<void> {
    void this.loginLoop(new LoginGuard(this.opts.state));
    let outcome: 'ready' | 'timeout';
    try {
      outcome = await Promise.race([
        this.ready.then(() => 'ready' as const),
        this.refused,
        sleep(START_WAIT_MS, 'timeout' as const, { signal: this.closing.signal }).catch(
          () => 'timeout' as const,
        ),
      ]);
    } catch (err) {
      await this.close();
      throw err;
    }
    if (outcome === 'timeout') {
      this.opts.log.warn(
        { api: this.opts.api },
        'discord: not connected yet; announcements wait in the outbox until it is',
      );
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    // Goodbye: invisible at once (the gateway is then closed with 1000, a clean close that ends
    // the session) rather than lingering online until Discord notices the socket is gone.
    if (this.up && this.client.user) {
      this.client.user.setPresence({ status: 'invisible', activities: [] });
      await new Promise((r) => setTimeout(r, 100));
    }
    this.up = false;
    this.closing.abort();
    await this.client.destroy();
  }

  private watch(): void {
    const { client } = this;
    const log = this.opts.log;
    client.once(Events.ClientReady, (ready) => {
      this.setUp(true, 'connected');
      log.info({ user: ready.user.tag, guilds: ready.guilds.cache.size }, 'discord: ready');
      this.markReady();
    });
    // A new session after a lost one, or the same session resumed: either way, sending works again.
    client.on(Events.ShardReady, () => this.setUp(true, 'connected'));
    client.on(Events.ShardResume, (_shard, replayed) => this.setUp(true, 'resumed', { replayed }));
    client.on(Events.ShardReconnecting, () => this.setUp(false, 'gateway lost; reconnecting'));
    client.on(Events.ShardDisconnect, (event) => {
      this.setUp(false, 'gateway closed for good', { code: event.code });
      const why = FATAL_CLOSE[event.code] ?? `close code ${event.code}`;
      const err = new Error(`Discord closed the gateway: ${why}`);
      if (!this.closed)
        log.error({ code: event.code }, `discord: ${err.message}; restart bbwatch once fixed`);
      this.giveUp(err);
    });
    client.on(Events.ShardError, (err) => log.debug({ err: err.message }, 'discord: gateway error'));
    client.on(Events.Error, (err) => log.error({ err: err.message }, 'discord: client error'));
    client.on(Events.Warn, (message) => log.warn({ message }, 'discord: warning'));
    client.rest.on(RESTEvents.RateLimited, (info: RateLimitData) =>
      log.warn(
        { route: info.route, method: info.method, retryAfterMs: info.retryAfter, global: info.global },
        'discord: rate limited, waiting',
      ),
    );
  }

  private setUp(up: boolean, what: string, extra: Record<string, unknown> = {}): void {
    if (this.closed) return;
    const changed = this.up !== up;
    this.up = up;
    if (changed) this.opts.log[up ? 'info' : 'warn'](extra, `discord: ${what}`);
    if (changed && up) this.opts.onUp?.();
  }

  private giveUp(err: Error): void {
    this.gaveUp = true;
    this.refuse(err);
  }

  /** Intents chosen from the application: asked of Discord once, before the first login. */
  private async chooseIntents(): Promise<void> {
    const choose = this.opts.intents;
    if (typeof choose === 'number' || this.intentsChosen) return;
    this.client.rest.setToken(this.opts.token);
    const application = (await this.client.rest.get(Routes.currentApplication())) as APIApplication;
    // discord.js reads the intents when it first connects, which has not happened yet.
    this.client.options.intents = new IntentsBitField(choose(application)).freeze();
    this.intentsChosen = true;
  }

  /**
   * Logs in, retrying with the bot's back-off (src/retry.ts) while Discord cannot be reached, and
   * never sooner than the login guard allows. A refused token ends it.
   */
  private async loginLoop(guard: LoginGuard): Promise<void> {
    const log = this.opts.log;
    const refusedToken = (err: unknown) => {
      const e = err as { code?: unknown; status?: unknown };
      return e.code === 'TokenInvalid' || e.status === 401;
    };
    await retry(
      async () => {
        const wait = guard.delayMs();
        if (wait > 0) {
          log.warn({ waitMs: wait }, 'discord: many logins lately; waiting before the next');
          await sleep(wait, true, { signal: this.closing.signal });
        }
        await this.chooseIntents();
        await this.client.login(this.opts.token);
        guard.record();
      },
      {
        minMs: 2000,
        maxMs: 60_000,
        signal: this.closing.signal,
        shouldRetry: (err) => !refusedToken(err) && !this.closed && !this.gaveUp,
        onRetry: (err, attempt) =>
          log.warn({ err: (err as Error).message, attempt }, 'discord: cannot log in yet; retrying'),
      },
    ).catch((err: unknown) => {
      // Closed, given up elsewhere, or the token refused: only the last is this loop's to say.
      if (!refusedToken(err)) return;
      const refused = new Error('Discord refused the bot token');
      log.error({}, `discord: ${refused.message}`);
      this.giveUp(refused);
    });
  }
}
