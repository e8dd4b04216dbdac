/**
 * The Discord adapter: a bot user on Discord's gateway (discord.js v14) that answers slash commands
 * (and `!commands` when enabled), keeps each guild's slash commands in step with bbwatch's, and
 * posts announcements as embeds to `discord:<channel id>`. Messages never ping anyone.
 */
import { createHash } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  type AutocompleteInteraction,
  type BaseMessageOptions,
  type ChatInputCommandInteraction,
  Client,
  type Message as DiscordMessage,
  Events,
  GatewayIntentBits,
  type Guild,
  type Interaction,
  MessageFlags,
  Options,
  RESTEvents,
  type RateLimitData,
  Routes,
} from 'discord.js';
import type { Adapter, AdapterServices, IncomingMessage } from '../../src/chat/adapter.js';
import type { CommandInfo } from '../../src/chat/command.js';
import type { Message } from '../../src/chat/render-kit.js';
import { LoginGuard } from './login-guard.js';
import { PendingReply } from './pending-reply.js';
import { syncGuildCommands } from './register.js';
import { renderEmbed } from './render.js';
import { interactionRoom, parseRoom, replyRoom } from './rooms.js';
import { senderOf } from './sender.js';
import { commandLine, type CommandJson, optionName, slashDefinitions } from './slash.js';

export interface DiscordAdapterOptions {
  /** The bot token (from the environment: never logged). */
  token: string;
  /** Answer `!status` typed in channels; needs the privileged Message Content intent. */
  prefixCommands: boolean;
  /** Register slash commands in each guild; when off, bbwatch's commands are removed from them. */
  slashCommands: boolean;
  /** Only these guild ids; every guild the bot is in when undefined. */
  guilds?: readonly string[];
  lineLimit: number;
  /** REST base URL (`https://discord.com/api`, or a stand-in for tests, or a proxy). */
  api: string;
}

/** A slash command not answered within this long is deferred (Discord allows 3 s to acknowledge). */
const DEFER_AFTER_MS = 1000;
/** How long start() waits for the first connection before letting the bot run on and retrying. */
const START_WAIT_MS = 20_000;
const NO_MENTIONS = { parse: [] as [] };

/** Gateway close codes after which discord.js gives up, with what the operator should do. */
const FATAL_CLOSE: Record<number, string> = {
  4004: 'the token was refused (reset in the Developer Portal?)',
  4013: 'invalid intents',
  4014: 'the Message Content intent is not enabled for this bot in the Developer Portal (prefix_commands: true needs it)',
};

export class DiscordAdapter implements Adapter {
  readonly platform = 'discord';
  readonly lineLimit: number;
  private client: Client | undefined;
  private services: AdapterServices | undefined;
  private onMessage: ((message: IncomingMessage) => Promise<void>) | undefined;
  private commands = new Map<string, CommandInfo>();
  private definitions: CommandJson[] = [];
  private readonly pending = new Map<string, PendingReply>();
  private connected = false;
  private stopped = false;
  private readonly stopping = new AbortController();
  private readonly firstReady: Promise<void>;
  private markReady: () => void = () => undefined;
  /** Discord refused the bot for good (token, intents): no more logins until a restart. */
  private gaveUp = false;
  private rejectStart: (err: Error) => void = () => undefined;
  private readonly failed: Promise<never>;

  constructor(private readonly opts: DiscordAdapterOptions) {
    this.lineLimit = opts.lineLimit;
    this.firstReady = new Promise((resolve) => (this.markReady = resolve));
    this.failed = new Promise((_resolve, reject) => (this.rejectStart = reject));
    this.failed.catch(() => undefined); // observed in start(), or logged when it happens later
  }

  async start(
    onMessage: (message: IncomingMessage) => Promise<void>,
    services: AdapterServices,
  ): Promise<void> {
    this.onMessage = onMessage;
    this.services = services;
    this.commands = new Map(services.commands.map((c) => [c.name, c]));
    const { commands, skipped } = slashDefinitions(services.commands);
    this.definitions = this.opts.slashCommands ? commands : [];
    if (skipped.length > 0)
      services.log.warn({ skipped }, 'discord: commands Discord would refuse are left out');

    const client = new Client({
      intents: this.intents(),
      rest: { api: this.opts.api },
      allowedMentions: { parse: [], repliedUser: false },
      failIfNotExists: false,
      // Messages are read once as they arrive, never looked up later.
      makeCache: Options.cacheWithLimits({ ...Options.DefaultMakeCacheSettings, MessageManager: 0 }),
    });
    this.client = client;
    this.attach(client, services);
    void this.loginLoop(client, new LoginGuard(services.state));

    let waited: 'ready' | 'timeout';
    try {
      waited = await Promise.race([
        this.firstReady.then(() => 'ready' as const),
        this.failed,
        sleep(START_WAIT_MS, 'timeout' as const, { signal: this.stopping.signal }).catch(
          () => 'timeout' as const,
        ),
      ]);
    } catch (err) {
      await this.stop();
      throw err;
    }
    if (waited === 'timeout') {
      services.log.warn(
        { api: this.opts.api },
        'discord: not connected yet; announcements wait in the outbox until it is',
      );
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.connected = false;
    this.stopping.abort();
    await this.client?.destroy();
  }

  /** Sends one message; resolves once Discord accepted it, rejects while Discord is unreachable. */
  async send(room: string, message: Message): Promise<void> {
    const target = parseRoom(room);
    const embed = renderEmbed(message);
    if (target.interactionId) {
      const pending = this.pending.get(target.interactionId);
      const payload: BaseMessageOptions = { embeds: [embed], allowedMentions: NO_MENTIONS };
      if (pending) return pending.answer(payload, message.private === true);
      // The command is no longer waiting for its answer: a public one goes to the channel.
      if (message.private) throw new Error('the slash command is gone; a private answer is not posted');
    }
    const client = this.client;
    if (!client || !this.connected) throw new Error('not connected to Discord');
    const body: Record<string, unknown> = {
      embeds: [embed],
      allowed_mentions: { parse: [], replied_user: false },
    };
    if (message.kind === 'announcement') {
      // Discord returns the first message for a repeated nonce: a resend after a lost answer posts nothing twice.
      body.nonce = nonceFor(target.channelId, embed);
      body.enforce_nonce = true;
    }
    if (target.replyTo) body.message_reference = { message_id: target.replyTo, fail_if_not_exists: false };
    await client.rest.post(Routes.channelMessages(target.channelId), { body });
  }

  private intents(): number {
    let intents = GatewayIntentBits.Guilds | GatewayIntentBits.GuildMessages;
    if (this.opts.prefixCommands) intents |= GatewayIntentBits.MessageContent;
    return intents;
  }

  private get log() {
    if (!this.services) throw new Error('the Discord adapter is not started');
    return this.services.log;
  }

  private allowedGuild(id: string | null): boolean {
    return id !== null && (!this.opts.guilds || this.opts.guilds.includes(id));
  }

  private attach(client: Client, services: AdapterServices): void {
    const log = services.log;
    client.once(Events.ClientReady, (ready) => {
      this.setConnected(true, 'connected');
      log.info({ user: ready.user.tag, guilds: ready.guilds.cache.size }, 'discord: ready');
      this.markReady();
      void this.registerAll(ready);
    });
    // A new session after a lost one, or the same session resumed: either way, sending works again.
    client.on(Events.ShardReady, () => this.setConnected(true, 'connected'));
    client.on(Events.ShardResume, (_shard, replayed) => this.setConnected(true, 'resumed', { replayed }));
    client.on(Events.ShardReconnecting, () => this.setConnected(false, 'gateway lost; reconnecting'));
    client.on(Events.ShardDisconnect, (event) => {
      this.setConnected(false, 'gateway closed for good', { code: event.code });
      const why = FATAL_CLOSE[event.code] ?? `close code ${event.code}`;
      const err = new Error(`Discord closed the gateway: ${why}`);
      if (!this.stopped)
        log.error({ code: event.code }, `discord: ${err.message}; restart bbwatch once fixed`);
      this.giveUp(err);
    });
    client.on(Events.ShardError, (err) => log.debug({ err: err.message }, 'discord: gateway error'));
    client.on(Events.Error, (err) => log.error({ err: err.message }, 'discord: client error'));
    client.on(Events.Warn, (message) => log.warn({ message }, 'discord: warning'));
    client.on(Events.GuildCreate, (guild) => void this.register(guild));
    client.on(Events.MessageCreate, (m) => void this.onChatMessage(m));
    client.on(Events.InteractionCreate, (i) => void this.onInteraction(i));
    client.rest.on(RESTEvents.RateLimited, (info: RateLimitData) =>
      log.warn(
        { route: info.route, method: info.method, retryAfterMs: info.retryAfter, global: info.global },
        'discord: rate limited, waiting',
      ),
    );
  }

  private setConnected(up: boolean, what: string, extra: Record<string, unknown> = {}): void {
    if (this.stopped) return;
    const changed = this.connected !== up;
    this.connected = up;
    if (changed) this.log[up ? 'info' : 'warn'](extra, `discord: ${what}`);
  }

  /** Logs in, retrying while Discord cannot be reached; discord.js reconnects by itself once in. */
  private async loginLoop(client: Client, guard: LoginGuard): Promise<void> {
    for (let attempt = 0; !this.stopped && !this.gaveUp; attempt++) {
      const wait = Math.max(guard.delayMs(), attempt === 0 ? 0 : Math.min(60_000, 2000 * 2 ** (attempt - 1)));
      if (wait > 0) {
        if (attempt === 0)
          this.log.warn({ waitMs: wait }, 'discord: many logins lately; waiting before the next');
        const slept = await sleep(wait, true, { signal: this.stopping.signal }).catch(() => false);
        if (!slept) return;
      }
      try {
        await client.login(this.opts.token);
        guard.record();
        return;
      } catch (err) {
        const e = err as { code?: unknown; status?: unknown; message?: string };
        if (e.code === 'TokenInvalid' || e.status === 401) {
          const fatal = new Error('Discord refused the bot token');
          this.log.error({}, `discord: ${fatal.message}`);
          this.giveUp(fatal);
          return;
        }
        if (!this.stopped && !this.gaveUp)
          this.log.warn({ err: e.message, attempt }, 'discord: cannot log in yet; retrying');
      }
    }
  }

  private giveUp(err: Error): void {
    this.gaveUp = true;
    this.rejectStart(err);
  }

  private async registerAll(client: Client<true>): Promise<void> {
    for (const guild of client.guilds.cache.values()) await this.register(guild);
  }

  private async register(guild: Guild): Promise<void> {
    const client = this.client;
    if (!client?.user || !this.allowedGuild(guild.id)) return;
    const applicationId = client.application?.id ?? client.user.id;
    try {
      const result = await syncGuildCommands(client.rest, applicationId, guild.id, this.definitions);
      this.log.info(
        { guild: guild.id, commands: this.definitions.length, changed: result === 'updated' },
        'discord: slash commands in place',
      );
    } catch (err) {
      const e = err as { code?: unknown; message?: string };
      const hint = e.code === 50001 ? ' (invite the bot with the applications.commands scope)' : '';
      this.log.warn(
        { guild: guild.id, err: `${e.message}${hint}` },
        'discord: slash commands not registered',
      );
    }
  }

  private async onChatMessage(m: DiscordMessage): Promise<void> {
    if (m.author.bot || m.webhookId || m.system || !m.inGuild() || !this.allowedGuild(m.guildId)) return;
    const botId = this.client?.user?.id;
    let text = m.content;
    let addressed = false;
    const mention = botId ? new RegExp(`^\\s*<@!?${botId}>[\\s,:]*`) : undefined;
    if (mention?.test(text)) {
      // `@bbwatch status 3.x` works without the privileged intent: Discord shows the bot what mentions it.
      text = text.replace(mention, '');
      addressed = true;
    } else if (!this.opts.prefixCommands) {
      return;
    }
    if (!text.trim()) return;
    await this.deliver({
      platform: this.platform,
      room: replyRoom(m.channelId, m.id),
      sender: senderOf(m.author, m.member, m.guildId),
      text,
      isDirect: false,
      addressed,
    });
  }

  private async onInteraction(i: Interaction): Promise<void> {
    try {
      if (!i.inGuild() || !this.allowedGuild(i.guildId)) {
        if (i.isRepliable()) {
          await i.reply({ content: 'bbwatch does not answer here.', flags: MessageFlags.Ephemeral });
        }
        return;
      }
      if (i.isAutocomplete()) await this.onAutocomplete(i);
      else if (i.isChatInputCommand()) await this.onCommand(i);
    } catch (err) {
      this.log.warn({ err: (err as Error).message }, 'discord: interaction not answered');
    }
  }

  private async onCommand(i: ChatInputCommandInteraction<'cached' | 'raw'>): Promise<void> {
    const info = this.commands.get(i.commandName);
    if (!info) {
      await i.reply({ content: `bbwatch has no /${i.commandName} any more.`, flags: MessageFlags.Ephemeral });
      return;
    }
    const values = new Map<string, string | number | boolean>();
    for (const option of i.options.data)
      if (option.value !== undefined) values.set(option.name, option.value);
    const pending = new PendingReply(i);
    this.pending.set(i.id, pending);
    const timer = setTimeout(() => {
      pending.defer().catch((err: Error) => this.log.warn({ err: err.message }, 'discord: could not defer'));
    }, DEFER_AFTER_MS);
    try {
      await this.deliver({
        platform: this.platform,
        room: interactionRoom(i.channelId, i.id),
        sender: senderOf(i.user, i.member, i.guildId),
        text: commandLine(info, values),
        isDirect: false,
        addressed: true,
      });
    } finally {
      clearTimeout(timer);
      this.pending.delete(i.id);
    }
    // Never leave the user with "bbwatch is thinking…" forever.
    if (!pending.answered) {
      await pending.answer(
        { content: 'No answer could be sent; see the bot log.', allowedMentions: NO_MENTIONS },
        true,
      );
    }
  }

  private async onAutocomplete(i: AutocompleteInteraction<'cached' | 'raw'>): Promise<void> {
    const focused = i.options.getFocused(true);
    const arg = this.commands.get(i.commandName)?.args?.find((a) => optionName(a) === focused.name);
    const typed = String(focused.value);
    let names: string[] = [];
    if (arg?.choices) names = arg.choices.filter((c) => c.toLowerCase().includes(typed.toLowerCase()));
    else if (arg && this.services) names = this.services.complete(arg.kind, typed, 25);
    await i.respond(
      names
        .filter((n) => n.length >= 1 && n.length <= 100)
        .slice(0, 25)
        .map((n) => ({ name: n, value: n })),
    );
  }

  private async deliver(message: IncomingMessage): Promise<void> {
    try {
      await this.onMessage?.(message);
    } catch (err) {
      this.log.error({ room: message.room, err: (err as Error).message }, 'discord: message not handled');
    }
  }
}

/** A nonce (at most 25 characters) that is the same for the same announcement to the same channel. */
function nonceFor(channelId: string, embed: object): string {
  return createHash('sha256')
    .update(`${channelId}\n${JSON.stringify(embed)}`)
    .digest('base64url')
    .slice(0, 25);
}
