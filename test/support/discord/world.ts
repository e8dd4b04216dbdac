/**
 * The fake Discord's world: one application (the bot), guilds with channels, roles and members,
 * and the JSON shapes Discord's v10 API uses for them. Only what bbwatch and discord.js touch.
 */

/** Discord's epoch (2015-01-01), as snowflakes count from it. */
const DISCORD_EPOCH = 1_420_070_400_000n;
let increment = 0n;

/** A fresh snowflake: milliseconds since Discord's epoch in the high bits, a counter in the low. */
export function snowflake(): string {
  increment = (increment + 1n) & 0xfffn;
  return String(((BigInt(Date.now()) - DISCORD_EPOCH) << 22n) | increment);
}

export interface FakeUser {
  id: string;
  username: string;
  bot?: boolean;
}

export interface FakeRole {
  id: string;
  name: string;
  /** Discord permission bits as a decimal string. */
  permissions: string;
  /** A bot's own role, made by Discord when the bot is invited with permissions. */
  managedFor?: string;
}

/** A channel permission overwrite: bits allowed and denied for a role (type 0) or a member (type 1). */
export interface FakeOverwrite {
  id: string;
  type: 0 | 1;
  allow: string;
  deny: string;
}

export interface FakeChannel {
  id: string;
  name: string;
  overwrites?: FakeOverwrite[];
}

/** A direct-message channel between the bot and one user (Discord makes one per pair). */
export interface FakeDmChannel {
  id: string;
  recipient: FakeUser;
}

export interface FakeMember {
  user: FakeUser;
  /** Role ids (never names), as Discord sends them. */
  roles: string[];
  nick?: string;
}

export interface FakeGuild {
  id: string;
  name: string;
  ownerId: string;
  channels: FakeChannel[];
  /** The first role is @everyone: its id is the guild's id. */
  roles: FakeRole[];
  members: FakeMember[];
  /** The roles the bot's own member has here (its managed role). */
  botRoles?: string[];
}

/** The permissions a plain member has (view channel, send messages, read history, use commands). */
export const MEMBER_PERMISSIONS = String((1n << 10n) | (1n << 11n) | (1n << 16n) | (1n << 31n));
/** What the bot is invited with: a member's, plus Embed Links and Attach Files. */
export const BOT_PERMISSIONS = String(BigInt(MEMBER_PERMISSIONS) | (1n << 14n) | (1n << 15n));

/** Permission bits by name, as a test writes an overwrite. */
export const Permission = {
  ViewChannel: 1n << 10n,
  SendMessages: 1n << 11n,
  EmbedLinks: 1n << 14n,
  AttachFiles: 1n << 15n,
} as const;

/** Every permission bit Discord defines today (bits 0 to 50). */
const ALL_PERMISSIONS = (1n << 51n) - 1n;
const ADMINISTRATOR = 1n << 3n;

/**
 * What a user may do in a channel, computed as Discord documents it ("Permission Overwrites"):
 * @everyone and the user's roles, then the channel's @everyone overwrite, its role overwrites
 * together, and the user's own overwrite. The owner and administrators may do everything.
 */
export function channelPermissions(
  guild: FakeGuild,
  channel: FakeChannel,
  userId: string,
  roleIds: readonly string[],
): bigint {
  let bits = guild.roles
    .filter((r) => r.id === guild.id || roleIds.includes(r.id))
    .reduce((acc, r) => acc | BigInt(r.permissions), 0n);
  if (userId === guild.ownerId || (bits & ADMINISTRATOR) !== 0n) return ALL_PERMISSIONS;
  const overwrites = channel.overwrites ?? [];
  const apply = (allow: bigint, deny: bigint) => {
    bits = (bits & ~deny) | allow;
  };
  const everyone = overwrites.find((o) => o.type === 0 && o.id === guild.id);
  if (everyone) apply(BigInt(everyone.allow), BigInt(everyone.deny));
  let allow = 0n;
  let deny = 0n;
  for (const o of overwrites) {
    if (o.type !== 0 || o.id === guild.id || !roleIds.includes(o.id)) continue;
    allow |= BigInt(o.allow);
    deny |= BigInt(o.deny);
  }
  apply(allow, deny);
  const own = overwrites.find((o) => o.type === 1 && o.id === userId);
  if (own) apply(BigInt(own.allow), BigInt(own.deny));
  return bits;
}

export function userJson(user: FakeUser) {
  return {
    id: user.id,
    username: user.username,
    global_name: user.bot ? null : user.username,
    discriminator: '0',
    avatar: null,
    bot: user.bot ?? false,
    public_flags: 0,
  };
}

export function memberJson(member: FakeMember, joinedAt: string) {
  return {
    user: userJson(member.user),
    nick: member.nick ?? null,
    avatar: null,
    roles: member.roles,
    joined_at: joinedAt,
    premium_since: null,
    deaf: false,
    mute: false,
    flags: 0,
    pending: false,
    communication_disabled_until: null,
  };
}

export function roleJson(role: FakeRole, position: number) {
  return {
    id: role.id,
    name: role.name,
    color: 0,
    colors: { primary_color: 0, secondary_color: null, tertiary_color: null },
    hoist: false,
    icon: null,
    unicode_emoji: null,
    position,
    permissions: role.permissions,
    managed: role.managedFor !== undefined,
    mentionable: false,
    flags: 0,
    ...(role.managedFor ? { tags: { bot_id: role.managedFor } } : {}),
  };
}

export function channelJson(channel: FakeChannel, guildId: string, position: number) {
  return {
    id: channel.id,
    type: 0, // GUILD_TEXT
    guild_id: guildId,
    name: channel.name,
    position,
    permission_overwrites: (channel.overwrites ?? []).map((o) => ({ ...o })),
    nsfw: false,
    topic: null,
    last_message_id: null,
    rate_limit_per_user: 0,
    parent_id: null,
  };
}

/** A DM channel as `GET /channels/{id}` returns it (type 1, DM): no guild, no name, one recipient. */
export function dmChannelJson(dm: FakeDmChannel) {
  return {
    id: dm.id,
    type: 1, // DM
    last_message_id: null,
    flags: 0,
    recipients: [userJson(dm.recipient)],
  };
}

/** The GUILD_CREATE payload the gateway sends after READY (and for a guild joined later). */
export function guildCreateJson(guild: FakeGuild, bot: FakeUser, joinedAt: string) {
  const botMember: FakeMember = { user: bot, roles: guild.botRoles ?? [] };
  return {
    id: guild.id,
    name: guild.name,
    icon: null,
    splash: null,
    discovery_splash: null,
    owner_id: guild.ownerId,
    afk_channel_id: null,
    afk_timeout: 300,
    verification_level: 0,
    default_message_notifications: 0,
    explicit_content_filter: 0,
    roles: guild.roles.map(roleJson),
    emojis: [],
    stickers: [],
    features: [],
    mfa_level: 0,
    system_channel_id: null,
    system_channel_flags: 0,
    rules_channel_id: null,
    vanity_url_code: null,
    description: null,
    banner: null,
    premium_tier: 0,
    preferred_locale: 'en-US',
    public_updates_channel_id: null,
    nsfw_level: 0,
    premium_progress_bar_enabled: false,
    joined_at: joinedAt,
    large: false,
    unavailable: false,
    member_count: guild.members.length + 1,
    voice_states: [],
    members: [...guild.members, botMember].map((m) => memberJson(m, joinedAt)),
    channels: guild.channels.map((c, i) => {
      const { guild_id: _guildId, ...rest } = channelJson(c, guild.id, i);
      return rest; // channels inside GUILD_CREATE carry no guild_id
    }),
    threads: [],
    presences: [],
    stage_instances: [],
    guild_scheduled_events: [],
    soundboard_sounds: [],
  };
}

/** Names of the default world's people and places, for tests to refer to. */
export interface DefaultWorld {
  guild: FakeGuild;
  bot: FakeUser;
  channel: FakeChannel;
  /** A second channel, for announcements that should not mix with command replies. */
  announceChannel: FakeChannel;
  /** The role a test grants permissions to. */
  ciRole: FakeRole;
  /** The bot's own (managed) role: what it may do in the guild's channels. */
  botRole: FakeRole;
  /** A different role that bears the same *name* as ciRole: permissions must never follow names. */
  impostorRole: FakeRole;
  /** Has ciRole. */
  admin: FakeMember;
  /** No roles. */
  alice: FakeMember;
  /** Has impostorRole and the nickname "ci-admin". */
  mallory: FakeMember;
}

export function defaultWorld(): DefaultWorld {
  const guildId = snowflake();
  const bot: FakeUser = { id: snowflake(), username: 'bbwatch', bot: true };
  const ciRole: FakeRole = { id: snowflake(), name: 'ci-admin', permissions: MEMBER_PERMISSIONS };
  const botRole: FakeRole = {
    id: snowflake(),
    name: 'bbwatch',
    permissions: BOT_PERMISSIONS,
    managedFor: bot.id,
  };
  const impostorRole: FakeRole = { id: snowflake(), name: 'ci-admin', permissions: MEMBER_PERMISSIONS };
  const admin: FakeMember = { user: { id: snowflake(), username: 'admin' }, roles: [ciRole.id] };
  const alice: FakeMember = { user: { id: snowflake(), username: 'alice' }, roles: [] };
  const mallory: FakeMember = {
    user: { id: snowflake(), username: 'mallory' },
    roles: [impostorRole.id],
    nick: 'ci-admin',
  };
  const channel: FakeChannel = { id: snowflake(), name: 'ci' };
  const announceChannel: FakeChannel = { id: snowflake(), name: 'ci-alerts' };
  const guild: FakeGuild = {
    id: guildId,
    name: 'Lab',
    ownerId: admin.user.id,
    channels: [channel, announceChannel],
    roles: [
      { id: guildId, name: '@everyone', permissions: MEMBER_PERMISSIONS },
      ciRole,
      impostorRole,
      botRole,
    ],
    members: [admin, alice, mallory],
    botRoles: [botRole.id],
  };
  return { guild, bot, channel, announceChannel, ciRole, botRole, impostorRole, admin, alice, mallory };
}
