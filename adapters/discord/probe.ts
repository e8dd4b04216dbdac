/**
 * `bbwatch doctor` on Discord: the token (REST `/users/@me`), a gateway login with the intents the
 * adapter asks for, the guilds' slash commands (readable only with the applications.commands
 * scope), and, for each channel announcements go to, that the bot can see it and post embeds (and
 * images, where digests go) there. Nothing is posted; the client logs out at the end.
 */
import {
  Client,
  DiscordAPIError,
  Events,
  GatewayIntentBits,
  type Guild,
  PermissionFlagsBits,
  PermissionsBitField,
  Routes,
} from 'discord.js';
import { fail, ok, type PlatformProbe, type ProbeServices, warn } from '../../src/chat/probe.js';

export interface DiscordProbeOptions {
  token: string;
  api: string;
  prefixCommands: boolean;
  slashCommands: boolean;
  guilds?: readonly string[] | undefined;
  /** Channels announcements go to; `images`: a digest with a chart goes there too. */
  channels: ReadonlyArray<{ id: string; from: string; images: boolean }>;
}

/** Gateway close codes after which Discord will not let the bot in, and what to do about each. */
const REFUSALS: Record<number, string> = {
  4004: 'Discord refused the token on the gateway',
  4013: 'Discord refused the intents as invalid',
  4014: 'Discord refused the Message Content intent (privileged)',
};

export class DiscordProbe implements PlatformProbe {
  readonly platform = 'discord';

  constructor(private readonly opts: DiscordProbeOptions) {}

  async run(s: ProbeServices): Promise<void> {
    const { opts } = this;
    let intents = GatewayIntentBits.Guilds | GatewayIntentBits.GuildMessages;
    if (opts.prefixCommands) intents |= GatewayIntentBits.MessageContent;
    const client = new Client({
      intents,
      // One try per request: the doctor reports, it does not wait out an outage.
      rest: { api: opts.api, retries: 0, timeout: 10_000 },
    });
    client.rest.setToken(opts.token);
    const channelTitles = opts.channels.map((c) => `post in channel ${c.id}`);
    try {
      const token = await s.check('bot token', async (signal) => {
        try {
          const me = (await client.rest.get(Routes.user(), { signal })) as { id: string; username: string };
          return ok(`accepted: bot user ${me.username} (${me.id})`);
        } catch (err) {
          if (err instanceof DiscordAPIError && err.status === 401) {
            return fail(
              'Discord refused the token',
              `check ${s.key('chat.discord.token')}: copy the token from the Developer Portal (your application → Bot → Reset Token)`,
            );
          }
          return fail(
            `cannot reach ${opts.api}: ${(err as Error).message}`,
            `check that this machine reaches Discord over HTTPS (a proxy? a firewall?)${opts.api === 'https://discord.com/api' ? '' : `, and ${s.key('chat.discord.api')}`}`,
          );
        }
      });
      if (token.status !== 'ok') {
        for (const title of ['gateway login', ...channelTitles]) s.skip(title, 'the token does not work');
        return;
      }

      const names = ['Guilds', 'GuildMessages', ...(opts.prefixCommands ? ['MessageContent'] : [])];
      const gateway = await s.check(
        `gateway login with intents ${names.join(', ')}`,
        async (signal) => {
          const code = await login(client, opts.token, signal);
          if (code !== undefined) {
            return fail(
              REFUSALS[code] ?? `the gateway closed with code ${code}`,
              code === 4014
                ? `switch on Message Content Intent in the Developer Portal (Bot → Privileged Gateway Intents), or set ${s.key('chat.discord.prefix_commands')}: false (slash commands and @mentions need no privileged intent)`
                : `check ${s.key('chat.discord.token')}`,
            );
          }
          const guilds = [...client.guilds.cache.values()];
          if (guilds.length === 0) {
            return warn(
              'connected, but the bot is in no server',
              'invite it: Developer Portal → OAuth2 → URL Generator, scopes bot and applications.commands',
            );
          }
          const missing = (opts.guilds ?? []).filter((id) => !client.guilds.cache.has(id));
          const list = guilds.map((g) => g.name).join(', ');
          if (missing.length > 0) {
            return warn(
              `connected; in ${list}, not in ${missing.join(', ')}`,
              `invite the bot to those servers, or take them out of ${s.key('chat.discord.guilds')}`,
            );
          }
          return ok(`connected; in ${guilds.length} server${guilds.length === 1 ? '' : 's'}: ${list}`);
        },
        {
          fixOnTimeout:
            "Discord's gateway did not answer: check that this machine may open WebSockets to Discord (a proxy? a firewall?)",
        },
      );
      if (gateway.status === 'fail') {
        for (const title of channelTitles) s.skip(title, 'not logged in to the gateway');
        return;
      }

      if (opts.slashCommands) {
        for (const guild of client.guilds.cache.values()) {
          if (opts.guilds && !opts.guilds.includes(guild.id)) continue;
          await s.check(`slash commands in ${guild.name}`, (signal) => slashCheck(client, guild, signal));
        }
      }

      for (const channel of opts.channels) {
        await s.check(`post in channel ${channel.id}`, () => channelCheck(client, channel, s));
      }
    } finally {
      await client.destroy();
    }
  }
}

/** Logs in and waits for READY and the guilds; a gateway refusal resolves with its close code. */
async function login(client: Client, token: string, signal: AbortSignal): Promise<number | undefined> {
  return new Promise<number | undefined>((resolve, reject) => {
    client.once(Events.ClientReady, () => resolve(undefined));
    client.once(Events.ShardDisconnect, (event) => resolve(event.code));
    signal.addEventListener('abort', () => reject(signal.reason as Error), { once: true });
    client.login(token).catch((err: unknown) => {
      const code = (err as { code?: unknown }).code;
      if (code === 'TokenInvalid') resolve(4004);
      else if (code === 'DisallowedIntents') resolve(4014);
      else reject(err as Error);
    });
  });
}

async function slashCheck(client: Client<boolean>, guild: Guild, signal: AbortSignal) {
  const appId = client.application?.id ?? client.user?.id ?? '';
  try {
    const commands = (await client.rest.get(Routes.applicationGuildCommands(appId, guild.id), {
      signal,
    })) as unknown[];
    return ok(`can manage them (${commands.length} registered now)`);
  } catch (err) {
    if (err instanceof DiscordAPIError && (err.code === 50001 || err.status === 403)) {
      return fail(
        'Missing Access',
        `the bot was invited without the applications.commands scope: invite it again with scopes bot and applications.commands (Developer Portal → OAuth2 → URL Generator)`,
      );
    }
    throw err;
  }
}

const NEEDED = [
  ['View Channel', PermissionFlagsBits.ViewChannel],
  ['Send Messages', PermissionFlagsBits.SendMessages],
  ['Embed Links', PermissionFlagsBits.EmbedLinks],
] as const;

async function channelCheck(
  client: Client<boolean>,
  target: { id: string; from: string; images: boolean },
  s: ProbeServices,
) {
  let channel;
  try {
    channel = client.channels.cache.get(target.id) ?? (await client.channels.fetch(target.id));
  } catch (err) {
    if (err instanceof DiscordAPIError && err.code === 10003) {
      return fail(
        'Unknown Channel',
        `check ${s.key(target.from)}: the channel's id (Developer Mode on, then right-click the channel → Copy Channel ID)`,
      );
    }
    if (err instanceof DiscordAPIError && (err.code === 50001 || err.status === 403)) {
      return fail(
        'Missing Access: the bot cannot see it',
        `the channel is in a server the bot is not in, or hidden from it: invite the bot, or give its role View Channel there (${s.key(target.from)})`,
      );
    }
    throw err;
  }
  if (!channel || channel.isDMBased() || !channel.isTextBased()) {
    return fail('not a text channel of a server', `point ${s.key(target.from)} at a text channel`);
  }
  const me = channel.guild.members.me;
  const perms = me ? channel.permissionsFor(me) : new PermissionsBitField();
  const needed = target.images
    ? [...NEEDED, ['Attach Files', PermissionFlagsBits.AttachFiles] as const]
    : NEEDED;
  const missing = needed.filter(([, bit]) => !perms.has(bit)).map(([name]) => name);
  const where = `#${channel.name} in ${channel.guild.name}`;
  if (missing.length > 0) {
    return fail(
      `${where}: the bot lacks ${missing.join(', ')}`,
      `give the bot's role ${missing.join(', ')} in #${channel.name} (channel settings → Permissions)`,
    );
  }
  return ok(`${where}: can see it and post embeds${target.images ? ' and images' : ''}`);
}
