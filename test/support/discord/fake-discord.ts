/**
 * A local stand-in for the parts of Discord's v10 API bbwatch uses, good enough for the real,
 * unmodified discord.js to run against it: the gateway (see gateway.ts) and REST (routes.ts) on one
 * port of 127.0.0.1. Tests drive it as Discord's users would (say something, run a slash command,
 * type into an autocompleted option) and look at what the bot did (messages, embeds, mentions,
 * registered commands, every request), and break it on purpose (drop the gateway, an outage,
 * a 429).
 *
 *   const discord = await startFakeDiscord();
 *   // bbwatch config: chat.discord { token: discord.token, api: discord.apiUrl }
 *   const reply = await discord.answer(discord.command(discord.world.alice, 'status', { which: '3.x' }));
 *   await discord.close();
 */
import { EventEmitter } from 'node:events';
import { createServer, type Server } from 'node:http';
import { randomBytes } from 'node:crypto';
import { FakeGateway, Intents } from './gateway.js';
import {
  EPHEMERAL,
  messageJson,
  type Pings,
  pingsOf,
  type StoredAttachment,
  type StoredMessage,
} from './messages.js';
import { RestServer } from './rest.js';
import { installRoutes } from './routes.js';
import type { CommandJson, EmbedJson, MessageBody } from './validate.js';
import {
  channelPermissions,
  type DefaultWorld,
  defaultWorld,
  type FakeChannel,
  type FakeDmChannel,
  type FakeGuild,
  type FakeMember,
  guildCreateJson,
  memberJson,
  snowflake,
  userJson,
} from './world.js';

export { Intents } from './gateway.js';
export type { StoredAttachment, StoredMessage, Pings } from './messages.js';

export interface StoredCommand {
  guildId: string;
  json: CommandJson & { id: string; application_id: string; guild_id: string; version: string };
}

export interface StoredInteraction {
  id: string;
  token: string;
  /** 2: a slash command; 3: a click on a message's button; 4: autocomplete. */
  type: 2 | 3 | 4;
  guildId: string;
  channelId: string;
  member: FakeMember;
  /** The slash command's name, or the custom id of the button clicked. */
  command: string;
  createdAt: number;
  state: 'pending' | 'replied' | 'deferred' | 'autocompleted';
  /** Whether the reply (or the deferral) was ephemeral: only the invoking user sees it. */
  ephemeral: boolean;
  callbacks: Array<{ type: number; data: unknown; at: number }>;
  original?: StoredMessage;
  originalDeleted: boolean;
  /** The deferred original was edited into a reply. */
  edited: boolean;
  followUps: StoredMessage[];
  choices?: Array<{ name: string; value: string | number }>;
}

/** What the user sees in answer to a slash command. */
export interface Answer {
  message: StoredMessage;
  embeds: EmbedJson[];
  ephemeral: boolean;
  /** The bot deferred first ("bbwatch is thinking…"). */
  deferred: boolean;
}

export interface FakeDiscordOptions {
  /** Default 41250 ms as Discord's; tests may shorten it. */
  heartbeatIntervalMs?: number;
  /** How long the bot has to acknowledge an interaction (Discord: 3 s). */
  ackDeadlineMs?: number;
}

export class FakeDiscord {
  readonly token = `fake.${randomBytes(12).toString('hex')}`;
  readonly applicationId: string;
  readonly world: DefaultWorld;
  readonly rest: RestServer;
  readonly gateway: FakeGateway;
  readonly ackDeadlineMs: number;
  port = 0;
  private readonly guilds: FakeGuild[];
  private readonly stored: StoredMessage[] = [];
  private readonly commands = new Map<string, StoredCommand[]>();
  private readonly interactions = new Map<string, StoredInteraction>();
  /** DM channels, by the id of the user the bot talks to there. */
  private readonly dms = new Map<string, FakeDmChannel>();
  private readonly changes = new EventEmitter();
  private readonly joinedAt = new Date().toISOString();

  constructor(
    private readonly server: Server,
    opts: FakeDiscordOptions,
  ) {
    this.world = defaultWorld();
    this.applicationId = this.world.bot.id;
    this.guilds = [this.world.guild];
    this.ackDeadlineMs = opts.ackDeadlineMs ?? 3000;
    this.changes.setMaxListeners(0);
    this.rest = new RestServer(this.token);
    this.gateway = new FakeGateway({
      token: this.token,
      heartbeatIntervalMs: opts.heartbeatIntervalMs ?? 41_250,
      resumeUrl: () => this.gatewayUrl,
      welcome: () => ({
        ready: {
          v: 10,
          user: { ...userJson(this.world.bot), verified: true, mfa_enabled: false, flags: 0 },
          guilds: this.guilds.map((g) => ({ id: g.id, unavailable: true })),
          shard: [0, 1],
          application: { id: this.applicationId, flags: this.applicationFlags() },
          user_settings: {},
          relationships: [],
          private_channels: [],
          presences: [],
          guild_join_requests: [],
          geo_ordered_rtc_regions: [],
        },
        guilds: this.guilds.map((g) => guildCreateJson(g, this.world.bot, this.joinedAt)),
      }),
    });
    this.rest.on('request', () => this.changed());
    this.gateway.on('event', () => this.changed());
    installRoutes(this.rest, this);
  }

  /** The REST base URL for discord.js's `rest.api` option (and bbwatch's `chat.discord.api`). */
  get apiUrl(): string {
    return `http://127.0.0.1:${this.port}/api`;
  }

  get gatewayUrl(): string {
    return `ws://127.0.0.1:${this.port}/gateway`;
  }

  // ---- what a test does as Discord's users ------------------------------------------------------

  /** A member writes in a channel; the bot receives it if its intents allow (content only with MessageContent or a mention). */
  say(member: FakeMember, content: string, channel: FakeChannel = this.world.channel): StoredMessage {
    const message = this.store({
      channelId: channel.id,
      guildId: this.guildOf(channel.id).id,
      body: { content },
      author: member,
    });
    return message;
  }

  /**
   * A user writes to the bot in a direct message. Discord delivers it with its text whatever the
   * bot's intents, if the bot asked for DIRECT_MESSAGES: no guild, no member, `channel_type` 1 (DM).
   */
  dm(member: FakeMember, content: string): StoredMessage {
    return this.store({
      channelId: this.dmChannelWith(member.user).id,
      guildId: undefined,
      body: { content },
      author: member,
    });
  }

  /** Messages the bot posted in its DM with a user, oldest first. */
  dmPosts(member: FakeMember): StoredMessage[] {
    return this.posts(this.dmChannelWith(member.user).id);
  }

  /**
   * The application's flags as `GET /applications/@me` and READY give them: the Developer Portal's
   * Message Content switch (GATEWAY_MESSAGE_CONTENT_LIMITED, 1 << 19, for a bot in under 100
   * servers) is on unless the gateway is told to refuse that intent.
   */
  applicationFlags(): number {
    return (this.gateway.disallowedIntents & Intents.MessageContent) === 0 ? 1 << 19 : 0;
  }

  /** A member runs a slash command with the given option values (checked against the registered definition). */
  command(
    member: FakeMember,
    name: string,
    options: Record<string, string | number> = {},
    channel: FakeChannel = this.world.channel,
  ): StoredInteraction {
    return this.interact(2, member, name, options, undefined, channel);
  }

  /**
   * A member clicks a button of one of the bot's messages (it must carry that custom id): an
   * interaction of type 3 (MESSAGE_COMPONENT), answered like a slash command (see {@link answer}).
   */
  click(member: FakeMember, message: StoredMessage, customId: string): StoredInteraction {
    const buttons = (message.components ?? []).flatMap((row) => row.components ?? []);
    if (!buttons.some((b) => b.custom_id === customId))
      throw new Error(`fake Discord: message ${message.id} has no button '${customId}'`);
    const channel = this.channel(message.channelId);
    if (!channel) throw new Error(`fake Discord: no channel ${message.channelId}`);
    const { guild } = channel;
    const interaction = this.newInteraction(3, member, customId, guild.id, message.channelId);
    this.dispatchInteraction(interaction, member, guild, channel.channel, {
      type: 3,
      data: { custom_id: customId, component_type: 2 },
      message: messageJson(message, this.applicationId),
    });
    return interaction;
  }

  /** A member types into an option with autocomplete; resolves with the choices the bot offered. */
  async autocomplete(
    member: FakeMember,
    name: string,
    options: Record<string, string | number>,
    focused: string,
  ): Promise<Array<{ name: string; value: string | number }>> {
    const interaction = this.interact(4, member, name, options, focused, this.world.channel);
    return this.waitFor(`autocomplete choices for /${name} ${focused}`, () => interaction.choices);
  }

  /** Waits for what the user sees in answer to a slash command. */
  answer(interaction: StoredInteraction, timeoutMs?: number): Promise<Answer> {
    return this.waitFor(
      `an answer to /${interaction.command}`,
      () => {
        const deferred = interaction.callbacks[0]?.type === 5;
        const original = interaction.original;
        if (
          original &&
          !interaction.originalDeleted &&
          (interaction.state === 'replied' || interaction.edited)
        ) {
          return { message: original, embeds: original.embeds, ephemeral: interaction.ephemeral, deferred };
        }
        const follow = interaction.followUps[0];
        if (follow) return { message: follow, embeds: follow.embeds, ephemeral: follow.ephemeral, deferred };
        return undefined;
      },
      timeoutMs,
    );
  }

  // ---- what a test breaks ----------------------------------------------------------------------

  /** Cuts the gateway connection; the bot may reconnect at once and RESUME. */
  drop(): void {
    this.gateway.drop();
  }

  /** Discord is away: the gateway drops and refuses connections, REST answers 503 — until {@link restore}. */
  outage(): void {
    this.rest.setOutage(true);
    this.gateway.refuse();
  }

  restore(): void {
    this.rest.setOutage(false);
    this.gateway.restore();
  }

  /** The next request whose path matches gets a 429 with `retry_after` (and so does any retry before then). */
  rateLimitNext(path: RegExp, retryAfterS: number, method?: string): void {
    this.rest.rateLimitNext(path, retryAfterS, method);
  }

  /** The next matching request is carried out but its answer never reaches the bot. */
  loseNextResponse(path: RegExp, method?: string): void {
    this.rest.loseNextResponse(path, method);
  }

  // ---- what a test looks at --------------------------------------------------------------------

  /** Messages the bot posted in a channel (not interaction replies), oldest first. */
  posts(channelId: string): StoredMessage[] {
    return this.stored.filter((m) => m.channelId === channelId && m.author.bot && !m.interactionId);
  }

  /** Bot messages that reply to the given message. */
  repliesTo(messageId: string): StoredMessage[] {
    return this.stored.filter((m) => m.replyTo === messageId && m.author.bot);
  }

  /** Who a stored message notified. */
  pings(message: StoredMessage): Pings {
    const replied = message.replyTo ? this.messageById(message.replyTo)?.author.id : undefined;
    return pingsOf(message, replied);
  }

  commandsOf(guildId: string = this.world.guild.id): StoredCommand[] {
    return this.commands.get(guildId) ?? [];
  }

  /** Registers a command as if an earlier version of the bot had (to see that it is removed). */
  seedCommand(def: CommandJson, guildId: string = this.world.guild.id): void {
    this.setCommands(guildId, [...this.commandsOf(guildId), this.commandRecord(guildId, def)]);
  }

  /** Resolves with `check()`'s first truthy value, re-checked on every request, gateway event and change. */
  waitFor<T>(what: string, check: () => T | undefined | false, timeoutMs = 30_000): Promise<T> {
    return new Promise((resolve, reject) => {
      const test = () => {
        let value: T | undefined | false;
        try {
          value = check();
        } catch (err) {
          done();
          reject(err as Error);
          return;
        }
        if (value) {
          done();
          resolve(value);
        }
      };
      const timer = setTimeout(() => {
        done();
        reject(new Error(`fake Discord: timed out waiting for ${what}`));
      }, timeoutMs);
      const done = () => {
        clearTimeout(timer);
        this.changes.off('changed', test);
      };
      this.changes.on('changed', test);
      test();
    });
  }

  async close(): Promise<void> {
    this.gateway.close();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  // ---- used by the routes ----------------------------------------------------------------------

  changed(): void {
    this.changes.emit('changed');
  }

  guild(id: string): FakeGuild | undefined {
    return this.guilds.find((g) => g.id === id);
  }

  /** The DM channel with a user (Discord opens one the first time either writes). */
  dmChannelWith(user: FakeMember['user']): FakeDmChannel {
    let dm = this.dms.get(user.id);
    if (!dm) {
      dm = { id: snowflake(), recipient: user };
      this.dms.set(user.id, dm);
    }
    return dm;
  }

  dmChannel(id: string): FakeDmChannel | undefined {
    return [...this.dms.values()].find((dm) => dm.id === id);
  }

  channel(id: string): { guild: FakeGuild; channel: FakeChannel } | undefined {
    for (const guild of this.guilds) {
      const channel = guild.channels.find((c) => c.id === id);
      if (channel) return { guild, channel };
    }
    return undefined;
  }

  messageById(id: string): StoredMessage | undefined {
    return this.stored.find((m) => m.id === id);
  }

  interactionFor(id: string, token: string): StoredInteraction | undefined {
    const found = this.interactions.get(id);
    return found?.token === token ? found : undefined;
  }

  interactionByToken(token: string): StoredInteraction | undefined {
    return [...this.interactions.values()].find((i) => i.token === token);
  }

  setCommands(guildId: string, list: StoredCommand[]): void {
    this.commands.set(guildId, list);
    this.changed();
  }

  commandRecord(guildId: string, def: CommandJson, id: string = snowflake()): StoredCommand {
    return {
      guildId,
      json: {
        type: 1,
        default_member_permissions: null,
        nsfw: false,
        contexts: null,
        integration_types: [0],
        ...def,
        id,
        application_id: this.applicationId,
        guild_id: guildId,
        version: snowflake(),
      },
    };
  }

  /** Stores a message (the bot's, or a user's with `author`) and tells the gateway about it. */
  store(input: {
    channelId: string;
    /** Undefined in a DM. */
    guildId: string | undefined;
    body: MessageBody;
    author?: FakeMember;
    replyTo?: string | undefined;
    interactionId?: string;
    quiet?: boolean;
    attachments?: StoredAttachment[];
  }): StoredMessage {
    const { body } = input;
    const flags = body.flags ?? 0;
    const message: StoredMessage = {
      id: snowflake(),
      channelId: input.channelId,
      guildId: input.guildId,
      author: input.author?.user ?? this.world.bot,
      // Guild messages carry the author's membership; a DM has none.
      ...(input.author && input.guildId ? { member: input.author } : {}),
      content: body.content ?? '',
      embeds: body.embeds ?? [],
      attachments: input.attachments ?? [],
      flags,
      ...(body.nonce !== undefined ? { nonce: body.nonce } : {}),
      ...(body.allowed_mentions !== undefined ? { allowedMentions: body.allowed_mentions } : {}),
      ...(input.replyTo ? { replyTo: input.replyTo } : {}),
      ...(input.interactionId ? { interactionId: input.interactionId } : {}),
      ...(body.components ? { components: body.components } : {}),
      ephemeral: (flags & EPHEMERAL) !== 0,
      at: Date.now(),
      edits: 0,
    };
    this.stored.push(message);
    if (!message.ephemeral && !input.quiet) this.dispatchMessage(message);
    this.changed();
    return message;
  }

  // ---- internals -------------------------------------------------------------------------------

  private guildOf(channelId: string): FakeGuild {
    const found = this.channel(channelId);
    if (!found) throw new Error(`fake Discord: no channel ${channelId}`);
    return found.guild;
  }

  /**
   * MESSAGE_CREATE as the bot's intents allow it: guild messages need GuildMessages and carry no
   * content without MessageContent (unless they mention the bot or are its own); DMs need
   * DirectMessages and always carry their content. `channel_type` says which (0 text, 1 DM).
   */
  private dispatchMessage(message: StoredMessage): void {
    const intents = this.gateway.intents ?? 0;
    const direct = message.guildId === undefined;
    if ((intents & (direct ? Intents.DirectMessages : Intents.GuildMessages)) === 0) return;
    const mentionsBot = new RegExp(`<@!?${this.world.bot.id}>`).test(message.content);
    const readable = direct || (intents & Intents.MessageContent) !== 0 || mentionsBot || message.author.bot;
    const json = messageJson(message, this.applicationId);
    this.gateway.dispatch('MESSAGE_CREATE', {
      ...json,
      ...(readable ? {} : { content: '', embeds: [] }),
      mentions: mentionsBot ? [userJson(this.world.bot)] : [],
      channel_type: direct ? 1 : 0,
    });
  }

  /**
   * INTERACTION_CREATE as Discord sends it: `payload` (type, data, message) plus the guild, the
   * channel with the asker's permissions there, the member, and the bot's own permissions.
   */
  private dispatchInteraction(
    interaction: StoredInteraction,
    member: FakeMember,
    guild: FakeGuild,
    channel: FakeChannel,
    payload: Record<string, unknown>,
  ): void {
    const permissions = channelPermissions(guild, channel, member.user.id, member.roles);
    const appPermissions = channelPermissions(guild, channel, this.world.bot.id, guild.botRoles ?? []);
    this.gateway.dispatch('INTERACTION_CREATE', {
      id: interaction.id,
      application_id: this.applicationId,
      ...payload,
      guild_id: guild.id,
      guild: { id: guild.id, locale: 'en-US', features: [] },
      channel_id: channel.id,
      channel: {
        id: channel.id,
        type: 0,
        guild_id: guild.id,
        name: channel.name,
        permissions: String(permissions),
        flags: 0,
      },
      member: { ...memberJson(member, this.joinedAt), permissions: String(permissions) },
      token: interaction.token,
      version: 1,
      app_permissions: String(appPermissions),
      locale: 'en-US',
      guild_locale: 'en-US',
      entitlements: [],
      authorizing_integration_owners: { '0': guild.id },
      context: 0,
      attachment_size_limit: 10_485_760,
    });
  }

  private newInteraction(
    type: StoredInteraction['type'],
    member: FakeMember,
    command: string,
    guildId: string,
    channelId: string,
  ): StoredInteraction {
    const interaction: StoredInteraction = {
      id: snowflake(),
      token: `itk.${randomBytes(16).toString('hex')}`,
      type,
      guildId,
      channelId,
      member,
      command,
      createdAt: Date.now(),
      state: 'pending',
      ephemeral: false,
      callbacks: [],
      originalDeleted: false,
      edited: false,
      followUps: [],
    };
    this.interactions.set(interaction.id, interaction);
    return interaction;
  }

  private interact(
    type: 2 | 4,
    member: FakeMember,
    name: string,
    values: Record<string, string | number>,
    focused: string | undefined,
    channel: FakeChannel,
  ): StoredInteraction {
    const guild = this.guildOf(channel.id);
    const command = this.commandsOf(guild.id).find((c) => c.json.name === name);
    if (!command)
      throw new Error(`fake Discord: /${name} is not registered in ${guild.name}, so nobody can run it`);
    const defs = command.json.options ?? [];
    const options = Object.entries(values).map(([key, value]) => {
      const def = defs.find((o) => o.name === key);
      if (!def) throw new Error(`fake Discord: /${name} has no option '${key}'`);
      if (key !== focused && def.type === 4 && !Number.isInteger(value)) {
        throw new Error(`fake Discord: /${name} ${key} takes an integer`);
      }
      return { name: key, type: def.type, value, ...(key === focused ? { focused: true } : {}) };
    });
    if (type === 2) {
      for (const def of defs) {
        if (def.required && !(def.name in values))
          throw new Error(`fake Discord: /${name} needs '${def.name}'`);
      }
    }
    const interaction = this.newInteraction(type, member, name, guild.id, channel.id);
    this.dispatchInteraction(interaction, member, guild, channel, {
      type,
      data: { id: command.json.id, name, type: 1, guild_id: guild.id, options },
    });
    return interaction;
  }
}

/** Starts the fake Discord on a free port of 127.0.0.1. */
export async function startFakeDiscord(opts: FakeDiscordOptions = {}): Promise<FakeDiscord> {
  const server = createServer();
  const fake = new FakeDiscord(server, opts);
  server.on('request', (req, res) => {
    if (req.url?.startsWith('/api/')) void fake.rest.handle(req, res);
    else res.writeHead(404).end();
  });
  server.on('upgrade', (req, socket, head) => fake.gateway.upgrade(req, socket, head));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('fake Discord has no port');
  fake.port = address.port;
  return fake;
}
