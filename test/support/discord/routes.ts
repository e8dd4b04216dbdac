/**
 * The REST endpoints of the fake Discord that bbwatch (through discord.js) uses: gateway discovery,
 * channel messages, guild application commands, interaction callbacks and their webhooks.
 */
import type { FakeDiscord, StoredInteraction } from './fake-discord.js';
import { attachmentsOf, EPHEMERAL, messageJson, type StoredMessage } from './messages.js';
import type { FilePart } from './multipart.js';
import type { RestResponse, RestServer } from './rest.js';
import {
  choiceProblems,
  type CommandJson,
  commandProblems,
  MAX_FILE_BYTES,
  type MessageBody,
  messageProblems,
} from './validate.js';
import { channelJson, dmChannelJson, userJson } from './world.js';

const json = (body: unknown, status = 200): RestResponse => ({ status, body });
const noContent: RestResponse = { status: 204 };

function invalid(problems: string[]): RestResponse {
  return {
    status: 400,
    body: {
      code: 50035,
      message: 'Invalid Form Body',
      errors: { _errors: problems.map((message) => ({ code: 'BASE_TYPE_INVALID', message })) },
    },
  };
}

function error(status: number, code: number, message: string): RestResponse {
  return { status, body: { code, message } };
}

/** A message body and its files, checked as Discord checks them: the refusal, or undefined. */
function refusal(body: MessageBody, files: readonly FilePart[], edit = false): RestResponse | undefined {
  if (files.some((f) => f.data.length > MAX_FILE_BYTES)) return error(413, 40005, 'Request entity too large');
  const problems = messageProblems(body, { edit, files });
  return problems.length > 0 ? invalid(problems) : undefined;
}

export function installRoutes(rest: RestServer, fake: FakeDiscord): void {
  const app = fake.applicationId;

  rest.route('GET', '/gateway/bot', () =>
    json({
      url: fake.gatewayUrl,
      shards: 1,
      session_start_limit: { total: 1000, remaining: 999, reset_after: 0, max_concurrency: 1 },
    }),
  );
  rest.route('GET', '/gateway', () => json({ url: fake.gatewayUrl }), { auth: false });
  rest.route('GET', '/users/@me', () => json(userJson(fake.world.bot)));
  rest.route('GET', '/applications/@me', () =>
    json({
      id: app,
      name: fake.world.bot.username,
      icon: null,
      description: '',
      summary: '',
      type: null,
      bot: userJson(fake.world.bot),
      bot_public: true,
      bot_require_code_grant: false,
      verify_key: '0'.repeat(64),
      team: null,
      flags: fake.applicationFlags(),
      approximate_guild_count: 1,
      redirect_uris: [],
      interactions_endpoint_url: null,
    }),
  );

  rest.route('GET', '/channels/:channel', (_req, [channel = '']) => {
    const found = fake.channel(channel);
    const dm = found ? undefined : fake.dmChannel(channel);
    if (dm) return json(dmChannelJson(dm));
    if (!found) return error(404, 10003, 'Unknown Channel');
    return json(channelJson(found.channel, found.guild.id, 0));
  });

  rest.route('POST', '/channels/:channel/messages', (req, [channel = '']) => {
    const found = fake.channel(channel);
    const dm = found ? undefined : fake.dmChannel(channel);
    if (!found && !dm) return error(404, 10003, 'Unknown Channel');
    const body = (req.body ?? {}) as MessageBody;
    const refused = refusal(body, req.files);
    if (refused) return refused;
    // enforce_nonce: the same nonce from the same author within minutes returns the first message.
    if (body.enforce_nonce && body.nonce !== undefined) {
      const earlier = fake.posts(channel).find((m) => m.nonce === body.nonce);
      if (earlier) return json(messageJson(earlier, app));
    }
    const ref = body.message_reference?.message_id;
    if (ref && !fake.messageById(ref) && body.message_reference?.fail_if_not_exists !== false) {
      return invalid(['message_reference: Unknown message']);
    }
    const message = fake.store({
      channelId: channel,
      guildId: found?.guild.id,
      body,
      replyTo: ref && fake.messageById(ref) ? ref : undefined,
      attachments: attachmentsOf(body, req.files),
    });
    return json(messageJson(message, app));
  });

  rest.route('GET', '/channels/:channel/messages/:message', (_req, [, id = '']) => {
    const m = fake.messageById(id);
    return m && !m.ephemeral ? json(messageJson(m, app)) : error(404, 10008, 'Unknown Message');
  });

  // Editing a message: only its author (the bot) may, in the channel it was posted in; the edit
  // replaces what it names (an `embeds` array replaces every embed) and is validated like a post.
  rest.route('PATCH', '/channels/:channel/messages/:message', (req, [channel = '', id = '']) => {
    if (!fake.channel(channel) && !fake.dmChannel(channel)) return error(404, 10003, 'Unknown Channel');
    const message = fake.messageById(id);
    if (!message || message.ephemeral || message.channelId !== channel)
      return error(404, 10008, 'Unknown Message');
    if (message.author.id !== fake.world.bot.id)
      return error(403, 50005, 'Cannot edit a message authored by another user');
    const body = (req.body ?? {}) as MessageBody;
    const refused = refusal(body, req.files, true);
    if (refused) return refused;
    if (body.content !== undefined) message.content = body.content;
    if (body.embeds !== undefined) message.embeds = body.embeds;
    if (body.allowed_mentions !== undefined) message.allowedMentions = body.allowed_mentions;
    message.edits++;
    fake.changed();
    return json(messageJson(message, app));
  });

  // Application commands: global ones (none) and per guild.
  rest.route('GET', `/applications/${app}/commands`, () => json([]));
  rest.route('PUT', `/applications/${app}/commands`, (req) => json(req.body ?? []));
  rest.route('GET', `/applications/${app}/guilds/:guild/commands`, (_req, [guild = '']) => {
    if (!fake.guild(guild)) return error(404, 10004, 'Unknown Guild');
    return json(fake.commandsOf(guild).map((c) => c.json));
  });
  rest.route('PUT', `/applications/${app}/guilds/:guild/commands`, (req, [guild = '']) => {
    if (!fake.guild(guild)) return error(404, 10004, 'Unknown Guild');
    const defs = (req.body ?? []) as CommandJson[];
    const problems = defs.flatMap((d, i) => commandProblems(d, `[${i}]`));
    if (new Set(defs.map((d) => d.name)).size !== defs.length) problems.push('two commands share a name');
    if (defs.length > 100) problems.push('more than 100 commands');
    if (problems.length > 0) return invalid(problems);
    const before = new Map(fake.commandsOf(guild).map((c) => [c.json.name, c]));
    const next = defs.map((d) => fake.commandRecord(guild, d, before.get(d.name)?.json.id));
    fake.setCommands(guild, next);
    return json(next.map((c) => c.json));
  });
  rest.route('POST', `/applications/${app}/guilds/:guild/commands`, (req, [guild = '']) => {
    if (!fake.guild(guild)) return error(404, 10004, 'Unknown Guild');
    const def = req.body as CommandJson;
    const problems = commandProblems(def);
    if (problems.length > 0) return invalid(problems);
    const list = fake.commandsOf(guild);
    const existing = list.find((c) => c.json.name === def.name);
    const record = fake.commandRecord(guild, def, existing?.json.id);
    fake.setCommands(guild, [...list.filter((c) => c !== existing), record]);
    return json(record.json, existing ? 200 : 201);
  });
  rest.route('DELETE', `/applications/${app}/guilds/:guild/commands/:command`, (_req, [guild = '', id]) => {
    const list = fake.commandsOf(guild);
    if (!list.some((c) => c.json.id === id)) return error(404, 10063, 'Unknown application command');
    fake.setCommands(
      guild,
      list.filter((c) => c.json.id !== id),
    );
    return noContent;
  });

  rest.route(
    'POST',
    '/interactions/:id/:token/callback',
    (req, [id = '', token = '']) => {
      const interaction = fake.interactionFor(id, token);
      if (!interaction || Date.now() - interaction.createdAt > fake.ackDeadlineMs) {
        return error(404, 10062, 'Unknown interaction');
      }
      if (interaction.state !== 'pending') {
        return error(400, 40060, 'Interaction has already been acknowledged.');
      }
      const { type, data } = (req.body ?? {}) as { type?: number; data?: Record<string, unknown> };
      return callback(
        fake,
        interaction,
        type ?? 0,
        data ?? {},
        req.query.get('with_response') === 'true',
        req.files,
      );
    },
    { auth: false },
  );

  rest.route(
    'POST',
    `/webhooks/${app}/:token`,
    (req, [token = '']) => {
      const interaction = fake.interactionByToken(token);
      if (!interaction || interaction.state === 'pending' || interaction.state === 'autocompleted') {
        return error(404, 10015, 'Unknown Webhook');
      }
      const body = (req.body ?? {}) as MessageBody;
      const refused = refusal(body, req.files);
      if (refused) return refused;
      const message = fake.store({
        channelId: interaction.channelId,
        guildId: interaction.guildId,
        body,
        interactionId: interaction.id,
        attachments: attachmentsOf(body, req.files),
      });
      interaction.followUps.push(message);
      fake.changed();
      return req.query.get('wait') === 'false' ? noContent : json(messageJson(message, app));
    },
    { auth: false },
  );

  const original = (token: string): [StoredInteraction, StoredMessage | undefined] | undefined => {
    const interaction = fake.interactionByToken(token);
    return interaction ? [interaction, interaction.original] : undefined;
  };
  rest.route(
    'GET',
    `/webhooks/${app}/:token/messages/@original`,
    (_req, [token = '']) => {
      const found = original(token);
      if (!found?.[1] || found[0].originalDeleted) return error(404, 10008, 'Unknown Message');
      return json(messageJson(found[1], app));
    },
    { auth: false },
  );
  rest.route(
    'PATCH',
    `/webhooks/${app}/:token/messages/@original`,
    (req, [token = '']) => {
      const found = original(token);
      if (!found || found[0].originalDeleted || !found[1]) return error(404, 10008, 'Unknown Message');
      const [interaction, message] = found;
      const body = (req.body ?? {}) as MessageBody;
      const refused = refusal(body, req.files, true);
      if (refused) return refused;
      if (body.content !== undefined) message.content = body.content;
      // An edit with `attachments` keeps only what it lists: here, the files it brings.
      if (body.attachments !== undefined || req.files.length > 0)
        message.attachments = attachmentsOf(body, req.files);
      if (body.embeds !== undefined) message.embeds = body.embeds;
      if (body.components !== undefined) message.components = body.components;
      if (body.allowed_mentions !== undefined) message.allowedMentions = body.allowed_mentions;
      message.edits++;
      interaction.edited = true;
      fake.changed();
      return json(messageJson(message, app));
    },
    { auth: false },
  );
  rest.route(
    'DELETE',
    `/webhooks/${app}/:token/messages/@original`,
    (_req, [token = '']) => {
      const found = original(token);
      if (!found?.[1] || found[0].originalDeleted) return error(404, 10008, 'Unknown Message');
      found[0].originalDeleted = true;
      fake.changed();
      return noContent;
    },
    { auth: false },
  );
}

/** An interaction response: a reply (4), a deferral (5) or autocomplete choices (8). */
function callback(
  fake: FakeDiscord,
  interaction: StoredInteraction,
  type: number,
  data: Record<string, unknown>,
  withResponse: boolean,
  files: readonly FilePart[],
): RestResponse {
  interaction.callbacks.push({ type, data, at: Date.now() });
  if (interaction.type === 4) {
    if (type !== 8) return invalid([`type ${type} is not valid for an autocomplete interaction`]);
    const choices = (data.choices ?? []) as Array<{ name: string; value: string | number }>;
    const problems = choiceProblems(choices);
    if (problems.length > 0) return invalid(problems);
    interaction.state = 'autocompleted';
    interaction.choices = choices;
    fake.changed();
    return noContent;
  }
  const flags = Number(data.flags ?? 0);
  if (type === 4) {
    const refused = refusal(data as MessageBody, files);
    if (refused) return refused;
    interaction.state = 'replied';
  } else if (type === 5) {
    interaction.state = 'deferred';
  } else {
    return invalid([`type ${type} is not valid for a command interaction`]);
  }
  interaction.ephemeral = (flags & EPHEMERAL) !== 0;
  interaction.original = fake.store({
    channelId: interaction.channelId,
    guildId: interaction.guildId,
    body: type === 4 ? (data as MessageBody) : { flags },
    interactionId: interaction.id,
    attachments: type === 4 ? attachmentsOf(data as MessageBody, files) : [],
    // A deferral shows "bbwatch is thinking…" until the reply is edited in; not a message yet.
    quiet: type === 5,
  });
  fake.changed();
  if (!withResponse) return noContent;
  return json({
    interaction: {
      id: interaction.id,
      type: 2,
      activity_instance_id: null,
      response_message_id: interaction.original.id,
      response_message_loading: type === 5,
      response_message_ephemeral: interaction.ephemeral,
    },
    resource: { type, message: messageJson(interaction.original, fake.applicationId) },
  });
}
