/**
 * Messages in the fake Discord: what is stored, their JSON shape, and who a message would ping by
 * Discord's rules (only the content pings, never embeds; `allowed_mentions` decides what may).
 */
import type { FilePart } from './multipart.js';
import { attachedNames, type EmbedJson, type MessageBody } from './validate.js';
import { type FakeMember, type FakeUser, memberJson, snowflake, userJson } from './world.js';

/** A file the bot sent with a message, as Discord keeps it on its CDN. */
export interface StoredAttachment {
  id: string;
  filename: string;
  contentType: string;
  description?: string;
  data: Buffer;
}

/** The files of a (valid) request, under the names `attachments` gives them. */
export function attachmentsOf(body: MessageBody, files: readonly FilePart[]): StoredAttachment[] {
  const names = attachedNames(body, files);
  return files.map((f, i) => {
    const description = body.attachments?.find((a) => String(a.id) === String(f.index))?.description;
    return {
      id: snowflake(),
      filename: names[i] ?? f.filename,
      contentType: f.contentType,
      ...(description !== undefined ? { description } : {}),
      data: f.data,
    };
  });
}

const CDN = 'https://cdn.discordapp.test';

function attachmentUrl(m: { channelId: string }, a: StoredAttachment): string {
  return `${CDN}/attachments/${m.channelId}/${a.id}/${encodeURIComponent(a.filename)}`;
}

export interface StoredMessage {
  id: string;
  channelId: string;
  /** Undefined in a direct message. */
  guildId: string | undefined;
  author: FakeUser;
  /** The author's membership (user messages only). */
  member?: FakeMember;
  content: string;
  embeds: EmbedJson[];
  /** Files sent with it (multipart); embeds refer to them as `attachment://<filename>`. */
  attachments: StoredAttachment[];
  flags: number;
  nonce?: string | number;
  /** As sent; undefined when the request had none (then Discord's default: everything may ping). */
  allowedMentions?: MessageBody['allowed_mentions'];
  /** The message this one replies to. */
  replyTo?: string;
  /** The interaction this message answers (reply, deferred reply, follow-up). */
  interactionId?: string;
  ephemeral: boolean;
  at: number;
  edits: number;
  /** Its buttons, as sent. */
  components?: MessageBody['components'];
}

export const EPHEMERAL = 1 << 6;

export function messageJson(m: StoredMessage, applicationId: string) {
  return {
    id: m.id,
    channel_id: m.channelId,
    ...(m.guildId ? { guild_id: m.guildId } : {}),
    author: userJson(m.author),
    ...(m.member
      ? { member: (({ user: _u, ...rest }) => rest)(memberJson(m.member, new Date(0).toISOString())) }
      : {}),
    content: m.content,
    timestamp: new Date(m.at).toISOString(),
    edited_timestamp: m.edits > 0 ? new Date().toISOString() : null,
    tts: false,
    mention_everyone: false,
    mentions: [],
    mention_roles: [],
    attachments: m.attachments.map((a) => ({
      id: a.id,
      filename: a.filename,
      size: a.data.length,
      url: attachmentUrl(m, a),
      proxy_url: attachmentUrl(m, a),
      content_type: a.contentType,
      ...(a.description !== undefined ? { description: a.description } : {}),
    })),
    // Discord answers with the attachment's own URL where the embed said attachment://.
    embeds: m.embeds.map((e) => {
      const name = /^attachment:\/\/(.+)$/.exec(e.image?.url ?? '')?.[1];
      const file = name === undefined ? undefined : m.attachments.find((a) => a.filename === name);
      return file ? { ...e, image: { url: attachmentUrl(m, file), proxy_url: attachmentUrl(m, file) } } : e;
    }),
    components: m.components ?? [],
    pinned: false,
    type: m.replyTo ? 19 : m.interactionId ? 20 : 0,
    flags: m.flags,
    ...(m.nonce !== undefined ? { nonce: m.nonce } : {}),
    ...(m.replyTo
      ? {
          message_reference: {
            type: 0,
            message_id: m.replyTo,
            channel_id: m.channelId,
            ...(m.guildId ? { guild_id: m.guildId } : {}),
          },
        }
      : {}),
    ...(m.interactionId ? { webhook_id: applicationId, application_id: applicationId } : {}),
  };
}

export interface Pings {
  everyone: boolean;
  users: string[];
  roles: string[];
}

/**
 * Who a message notifies, as Discord decides: `@everyone`/`@here`, `<@id>` and `<@&id>` in the
 * content count, filtered by `allowed_mentions` (absent: all of them); a reply also pings the
 * author of the message it answers unless `allowed_mentions.replied_user` is false (or absent
 * while `allowed_mentions` is given). Embeds never ping.
 */
export function pingsOf(m: StoredMessage, repliedAuthor: string | undefined): Pings {
  const am = m.allowedMentions;
  const parse = am ? (am.parse ?? []) : ['everyone', 'users', 'roles'];
  const mentionedUsers = [...m.content.matchAll(/<@!?(\d+)>/g)].map((x) => x[1] as string);
  const mentionedRoles = [...m.content.matchAll(/<@&(\d+)>/g)].map((x) => x[1] as string);
  const users = mentionedUsers.filter((id) => parse.includes('users') || (am?.users ?? []).includes(id));
  if (repliedAuthor && (am ? am.replied_user === true : true)) users.push(repliedAuthor);
  return {
    everyone: parse.includes('everyone') && /@(everyone|here)\b/.test(m.content),
    users: [...new Set(users)],
    roles: mentionedRoles.filter((id) => parse.includes('roles') || (am?.roles ?? []).includes(id)),
  };
}
