/**
 * The Discord adapter: a bot user on Discord's gateway (discord.js v14) that answers slash commands,
 * mentions, direct messages and — when the Message Content intent allows — `!commands` typed in
 * channels; keeps each guild's slash commands in step with bbwatch's; and posts announcements as
 * embeds to `discord:<channel id>`. Messages never ping anyone.
 */
import { createHash } from 'node:crypto';
import {
  type APIApplication,
  ApplicationFlags,
  type AutocompleteInteraction,
  type BaseMessageOptions,
  type ButtonInteraction,
  type ChatInputCommandInteraction,
  type Client,
  type Message as DiscordMessage,
  ChannelType,
  Events,
  GatewayIntentBits,
  type Guild,
  type Interaction,
  MessageFlags,
  Routes,
} from 'discord.js';
import type { Adapter, AdapterServices, IncomingMessage } from '../../src/chat/adapter.js';
import type { CommandInfo } from '../../src/chat/command.js';
import type { Message } from '../../src/chat/render-kit.js';
import { buttonCommand, renderButtons } from './buttons.js';
import { DiscordConnection } from './connection.js';
import { PendingReply } from './pending-reply.js';
import { syncGuildCommands } from './register.js';
import { attachmentOf, deliberateMention, renderEmbed } from './render.js';
import { interactionRoom, parseRoom, replyRoom } from './rooms.js';
import { senderOf } from './sender.js';
import { commandLine, type CommandJson, optionName, slashDefinitions } from './slash.js';

export interface DiscordAdapterOptions {
  /** The bot token (from the environment: never logged). */
  token: string;
  /**
   * Answer `!status` typed in channels, which needs the privileged Message Content intent: `auto`
   * when the Developer Portal allows the bot that intent, `true` always (Discord refuses the login
   * if it does not), `false` never.
   */
  prefixCommands: boolean | 'auto';
  /** Register slash commands in each guild; when off, bbwatch's commands are removed from them. */
  slashCommands: boolean;
  /** Only these guild ids; every guild the bot is in when undefined. */
  guilds?: readonly string[];
  lineLimit: number;
  /** REST base URL (`https://discord.com/api`, or a stand-in for tests, or a proxy). */
  api: string;
}

/** A message that starts by mentioning a user (`<@123>` or the older `<@!123>`): which one. */
const LEADING_MENTION = /^\s*<@!?(\d+)>[\s,:]*/;

/** A slash command not answered within this long is deferred (Discord allows 3 s to acknowledge). */
const DEFER_AFTER_MS = 1000;
const NO_MENTIONS = { parse: [] as [] };
/** The application flags that say the Developer Portal allows the bot the Message Content intent. */
const MESSAGE_CONTENT_ALLOWED =
  ApplicationFlags.GatewayMessageContent | ApplicationFlags.GatewayMessageContentLimited;

export class DiscordAdapter implements Adapter {
  readonly platform = 'discord';
  readonly lineLimit: number;
  private connection: DiscordConnection | undefined;
  private services: AdapterServices | undefined;
  private onMessage: ((message: IncomingMessage) => Promise<void>) | undefined;
  private commands = new Map<string, CommandInfo>();
  private definitions: CommandJson[] = [];
  private readonly pending = new Map<string, PendingReply>();
  /** Whether `!status` typed in a channel is answered: settled when the intents are chosen. */
  private prefixActive = false;

  constructor(private readonly opts: DiscordAdapterOptions) {
    this.lineLimit = opts.lineLimit;
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

    const connection = new DiscordConnection({
      token: this.opts.token,
      api: this.opts.api,
      intents: this.opts.prefixCommands === 'auto' ? (app) => this.intents(app) : this.intents(),
      log: services.log,
      state: services.state,
      // Announcements that waited while Discord was away go out now.
      onUp: () => services.connected?.(),
    });
    this.connection = connection;
    const { client } = connection;
    client.once(Events.ClientReady, (ready) => void this.registerAll(ready));
    client.on(Events.GuildCreate, (guild) => void this.register(guild));
    client.on(Events.MessageCreate, (m) => void this.onChatMessage(m));
    client.on(Events.InteractionCreate, (i) => void this.onInteraction(i));
    await connection.open();
  }

  isConnected(): boolean {
    return this.connection?.connected === true;
  }

  async stop(): Promise<void> {
    await this.connection?.close();
  }

  /** Sends one message; resolves once Discord accepted it, rejects while Discord is unreachable. */
  async send(room: string, message: Message): Promise<string | void> {
    const target = parseRoom(room);
    const embed = renderEmbed(message);
    const ping = deliberateMention(message);
    const file = attachmentOf(message);
    const components = renderButtons(message);
    if (target.interactionId) {
      const pending = this.pending.get(target.interactionId);
      const payload: BaseMessageOptions = {
        embeds: [embed],
        ...(components.length > 0 ? { components } : {}),
        ...(file
          ? { files: [{ attachment: file.data, name: file.name, description: file.description }] }
          : {}),
        ...(ping ? { content: ping.content } : {}),
        allowedMentions: ping ? { parse: [], users: [ping.userId] } : NO_MENTIONS,
      };
      if (pending) return pending.answer(payload, message.private === true);
      // The command is no longer waiting for its answer: a public one goes to the channel.
      if (message.private) throw new Error('the slash command is gone; a private answer is not posted');
    }
    const connection = this.connection;
    if (!connection) throw new Error('the Discord adapter is not started');
    // The outbox retries an announcement, in order, so it fails fast while the gateway is down. A
    // reply has no second chance: it goes out through REST even while the gateway is resuming.
    if (message.kind === 'announcement' && !connection.connected) throw new Error('not connected to Discord');
    const body: Record<string, unknown> = {
      embeds: [embed],
      allowed_mentions: { parse: [], users: ping ? [ping.userId] : [], replied_user: false },
    };
    if (ping) body.content = ping.content;
    if (components.length > 0) body.components = components;
    if (message.kind === 'announcement') {
      // Discord returns the first message for a repeated nonce: a resend after a lost answer posts nothing twice.
      body.nonce = nonceFor(target.channelId, embed);
      body.enforce_nonce = true;
    }
    if (target.replyTo) body.message_reference = { message_id: target.replyTo, fail_if_not_exists: false };
    if (!file) {
      const posted = await connection.client.rest.post(Routes.channelMessages(target.channelId), { body });
      return messageId(posted);
    }
    // With a file the request is multipart: `payload_json` and `files[0]`, which `attachments` describes.
    body.attachments = [{ id: 0, filename: file.name, description: file.description }];
    const posted = await connection.client.rest.post(Routes.channelMessages(target.channelId), {
      body,
      files: [{ name: file.name, data: file.data, contentType: file.contentType }],
    });
    return messageId(posted);
  }

  /** Edits an announcement it posted (`ref`: the message id `send` gave): its embed is replaced. */
  async edit(room: string, ref: string, message: Message): Promise<void> {
    const target = parseRoom(room);
    const connection = this.connection;
    if (!connection) throw new Error('the Discord adapter is not started');
    if (!connection.connected) throw new Error('not connected to Discord');
    await connection.client.rest.patch(Routes.channelMessage(target.channelId, ref), {
      body: { embeds: [renderEmbed(message)], allowed_mentions: NO_MENTIONS_BODY },
    });
  }

  /**
   * Guilds, their messages (mentions of the bot carry their text), direct messages (which carry it
   * too), and Message Content where `!status` typed in a channel is to be answered: without that
   * intent Discord sends the bot every other channel message with empty text.
   */
  private intents(application?: Pick<APIApplication, 'flags'>): number {
    const allowed = application ? ((application.flags ?? 0) & MESSAGE_CONTENT_ALLOWED) !== 0 : undefined;
    this.prefixActive = this.opts.prefixCommands === 'auto' ? allowed === true : this.opts.prefixCommands;
    if (this.opts.prefixCommands === 'auto') {
      this.log.info(
        { prefixCommands: this.prefixActive },
        this.prefixActive
          ? 'discord: the Message Content intent is on for this bot, so !commands typed in channels are answered too'
          : 'discord: the Message Content intent is off for this bot, so !commands typed in channels are not seen; slash commands, mentions and direct messages are answered',
      );
    }
    let intents =
      GatewayIntentBits.Guilds | GatewayIntentBits.GuildMessages | GatewayIntentBits.DirectMessages;
    if (this.prefixActive) intents |= GatewayIntentBits.MessageContent;
    return intents;
  }

  /**
   * How someone who mentioned the bot writes commands: `!status` where typed commands are
   * answered, else `/status` (the slash commands), else the mention itself.
   */
  private mentionForm(): string | undefined {
    if (this.prefixActive) return undefined;
    if (this.opts.slashCommands) return '/';
    return `@${this.connection?.client.user?.username ?? 'bbwatch'} `;
  }

  private get log() {
    if (!this.services) throw new Error('the Discord adapter is not started');
    return this.services.log;
  }

  private allowedGuild(id: string | null): boolean {
    return id !== null && (!this.opts.guilds || this.opts.guilds.includes(id));
  }

  private async registerAll(client: Client<true>): Promise<void> {
    for (const guild of client.guilds.cache.values()) await this.register(guild);
  }

  private async register(guild: Guild): Promise<void> {
    const client = this.connection?.client;
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
    if (m.author.bot || m.webhookId || m.system) return;
    const direct = m.channel.type === ChannelType.DM;
    if (!direct && (!m.inGuild() || !this.allowedGuild(m.guildId))) return;
    const botId = this.connection?.client.user?.id;
    let text = m.content;
    let addressed = direct;
    const mention = LEADING_MENTION.exec(text);
    if (botId && mention?.[1] === botId) {
      // `@bbwatch status 3.x` works without the privileged intent: Discord shows the bot what mentions it.
      text = text.slice(mention[0].length);
      addressed = true;
    } else if (!direct && !this.prefixActive) {
      return;
    }
    if (!text.trim()) return;
    // A direct message carries its text without any privileged intent: `status` or `!status`.
    // Only the user's own id can grant anything there; Discord sends no roles with it.
    const form = direct || !addressed ? undefined : this.mentionForm();
    await this.deliver({
      platform: this.platform,
      room: replyRoom(m.channelId, m.id),
      sender: senderOf(m.author, direct ? null : m.member, direct ? null : m.guildId),
      text,
      isDirect: direct,
      addressed,
      ...(form ? { commandPrefix: form } : {}),
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
      else if (i.isButton()) await this.onButton(i);
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
    await this.runFor(i, commandLine(info, values), '/');
  }

  /**
   * A click on one of the bot's buttons (a message's actions): the command it stands for runs as
   * if the person who clicked had typed it, with their permissions; the answer is the reply.
   */
  private async onButton(i: ButtonInteraction<'cached' | 'raw'>): Promise<void> {
    const command = buttonCommand(i.customId);
    if (command === undefined) {
      await i.reply({ content: 'bbwatch does not know this button.', flags: MessageFlags.Ephemeral });
      return;
    }
    await this.runFor(i, command, undefined);
  }

  /** Runs a command for an interaction and answers it (deferred when slow, never left unanswered). */
  private async runFor(
    i: ChatInputCommandInteraction<'cached' | 'raw'> | ButtonInteraction<'cached' | 'raw'>,
    text: string,
    commandPrefix: string | undefined,
  ): Promise<void> {
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
        text,
        isDirect: false,
        addressed: true,
        ...(commandPrefix ? { commandPrefix } : {}),
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

/** Nobody is pinged by an edit. */
const NO_MENTIONS_BODY = { parse: [] as string[] };

/** The id of the message Discord answered a post with (undefined for an answer without one). */
function messageId(posted: unknown): string | undefined {
  const id = (posted as { id?: unknown } | null)?.id;
  return typeof id === 'string' ? id : undefined;
}
