import type { FilePart } from './multipart.js';

/**
 * The checks Discord makes on what a bot sends (message and embed limits, command definitions,
 * autocomplete choices). A request that breaks one is answered 400 "Invalid Form Body" as Discord
 * would, so a renderer that overflows a limit fails the tests instead of passing silently.
 */

export interface EmbedJson {
  title?: string;
  description?: string;
  url?: string;
  color?: number;
  fields?: Array<{ name?: string; value?: string; inline?: boolean }>;
  footer?: { text?: string };
  author?: { name?: string };
  timestamp?: string;
  image?: { url?: string };
}

/** What `attachments` in a message body says of a file (`id` is n of the `files[n]` part). */
export interface AttachmentJson {
  id?: number | string;
  filename?: string;
  description?: string;
}

export interface MessageBody {
  content?: string;
  embeds?: EmbedJson[];
  flags?: number;
  nonce?: string | number;
  enforce_nonce?: boolean;
  allowed_mentions?: { parse?: string[]; users?: string[]; roles?: string[]; replied_user?: boolean };
  message_reference?: { message_id?: string; channel_id?: string; fail_if_not_exists?: boolean };
  attachments?: AttachmentJson[];
  components?: ActionRowJson[];
}

/** A row of message components (type 1) holding buttons (type 2), the only components bbwatch sends. */
export interface ActionRowJson {
  type: number;
  components?: Array<{ type?: number; style?: number; label?: string; custom_id?: string; url?: string }>;
}

/** Discord's limits on message components: rows, buttons per row, labels, custom ids unique in the message. */
export function componentProblems(rows: readonly ActionRowJson[]): string[] {
  const problems: string[] = [];
  if (rows.length > 5) problems.push('components: more than 5 rows');
  const ids = new Set<string>();
  rows.forEach((row, i) => {
    const at = `components[${i}]`;
    if (row.type !== 1) problems.push(`${at}.type: a top-level component must be an action row (1)`);
    const buttons = row.components ?? [];
    if (buttons.length < 1 || buttons.length > 5) problems.push(`${at}.components: must hold 1-5 buttons`);
    buttons.forEach((b, j) => {
      const bat = `${at}.components[${j}]`;
      if (b.type !== 2) problems.push(`${bat}.type: not a button`);
      if (!b.style || b.style < 1 || b.style > 5) problems.push(`${bat}.style: not a button style`);
      if (b.label !== undefined && len(b.label) > 80) problems.push(`${bat}.label: longer than 80`);
      if (b.style === 5) {
        if (!b.url) problems.push(`${bat}.url: a link button needs a url`);
        return;
      }
      const id = b.custom_id ?? '';
      if (len(id) < 1 || len(id) > 100) problems.push(`${bat}.custom_id: must be 1-100 long`);
      if (ids.has(id)) problems.push(`${bat}.custom_id: the same as another component's`);
      ids.add(id);
    });
  });
  return problems;
}

/** A bot's upload limit per file (without boosts), and files per message. */
export const MAX_FILE_BYTES = 10 * 1024 * 1024;
export const MAX_FILES = 10;

const len = (s: string | undefined) => (s === undefined ? 0 : Array.from(s).length);

export function embedLength(embed: EmbedJson): number {
  return (
    len(embed.title) +
    len(embed.description) +
    len(embed.footer?.text) +
    len(embed.author?.name) +
    (embed.fields ?? []).reduce((n, f) => n + len(f.name) + len(f.value), 0)
  );
}

/** Problems with a message body (create, edit, interaction reply, follow-up); empty when Discord takes it. */
export function messageProblems(
  body: MessageBody,
  { edit = false, files = [] as readonly FilePart[] } = {},
): string[] {
  const problems: string[] = [];
  if (body.content !== undefined && len(body.content) > 2000) problems.push('content: longer than 2000');
  const embeds = body.embeds ?? [];
  if (embeds.length > 10) problems.push('embeds: more than 10');
  if (!edit && !body.content && embeds.length === 0 && files.length === 0)
    problems.push('Cannot send an empty message');
  problems.push(...fileProblems(body, files));
  problems.push(...componentProblems(body.components ?? []));
  let total = 0;
  embeds.forEach((e, i) => {
    const at = `embeds[${i}]`;
    if (len(e.title) > 256) problems.push(`${at}.title: longer than 256`);
    if (len(e.description) > 4096) problems.push(`${at}.description: longer than 4096`);
    if (len(e.footer?.text) > 2048) problems.push(`${at}.footer.text: longer than 2048`);
    if (len(e.author?.name) > 256) problems.push(`${at}.author.name: longer than 256`);
    if ((e.fields ?? []).length > 25) problems.push(`${at}.fields: more than 25`);
    (e.fields ?? []).forEach((f, j) => {
      if (!f.name || len(f.name) > 256) problems.push(`${at}.fields[${j}].name: must be 1-256 long`);
      if (!f.value || len(f.value) > 1024) problems.push(`${at}.fields[${j}].value: must be 1-1024 long`);
    });
    if (e.url !== undefined && !/^https?:\/\/\S+$/.test(e.url)) problems.push(`${at}.url: not a URL`);
    const image = e.image?.url;
    if (image !== undefined) {
      const ref = /^attachment:\/\/(.+)$/.exec(image)?.[1];
      // Stricter than Discord, which would show the embed without the picture: a test should notice.
      if (ref !== undefined && !attachedNames(body, files).includes(ref))
        problems.push(`${at}.image.url: no attachment named '${ref}' in this message`);
      if (ref === undefined && !/^https?:\/\/\S+$/.test(image))
        problems.push(`${at}.image.url: Scheme must be one of ('http', 'https', 'attachment')`);
    }
    if (e.color !== undefined && !(Number.isInteger(e.color) && e.color >= 0 && e.color <= 0xffffff))
      problems.push(`${at}.color: not a colour`);
    total += embedLength(e);
  });
  if (total > 6000) problems.push(`embeds: ${total} characters in total, more than 6000`);
  if (typeof body.nonce === 'string' && len(body.nonce) > 25) problems.push('nonce: longer than 25');
  for (const p of body.allowed_mentions?.parse ?? []) {
    if (!['roles', 'users', 'everyone'].includes(p)) problems.push(`allowed_mentions.parse: '${p}'`);
  }
  return problems;
}

/** The names files go by in a message: `attachments[].filename` where given, else the part's filename. */
export function attachedNames(body: MessageBody, files: readonly FilePart[]): string[] {
  return files.map(
    (f) => body.attachments?.find((a) => String(a.id) === String(f.index))?.filename ?? f.filename,
  );
}

/** Problems with the files of a message and the `attachments` that describe them. */
export function fileProblems(body: MessageBody, files: readonly FilePart[]): string[] {
  const problems: string[] = [];
  if (files.length > MAX_FILES) problems.push(`files: more than ${MAX_FILES}`);
  for (const f of files) {
    if (f.data.length === 0) problems.push(`files[${f.index}]: empty file`);
    if (!/^[^/\\\u0000-\u001f]{1,255}$/.test(f.filename)) problems.push(`files[${f.index}]: bad filename`);
  }
  (body.attachments ?? []).forEach((a, i) => {
    const at = `attachments[${i}]`;
    if (a.id === undefined || !/^\d+$/.test(String(a.id))) problems.push(`${at}.id: not a number`);
    else if (!files.some((f) => f.index === Number(a.id)))
      problems.push(`${at}.id: no files[${String(a.id)}] part in this request`);
    if (a.filename !== undefined && !/^[^/\\\u0000-\u001f]{1,255}$/.test(a.filename))
      problems.push(`${at}.filename: bad filename`);
    if (len(a.description) > 1024) problems.push(`${at}.description: longer than 1024`);
  });
  return problems;
}

export interface CommandOptionJson {
  type: number;
  name: string;
  description: string;
  required?: boolean;
  autocomplete?: boolean;
  choices?: Array<{ name: string; value: string | number }>;
  min_value?: number;
  max_value?: number;
  options?: CommandOptionJson[];
}

export interface CommandJson {
  name: string;
  description: string;
  type?: number;
  options?: CommandOptionJson[];
  default_member_permissions?: string | null;
  contexts?: number[] | null;
  integration_types?: number[];
  dm_permission?: boolean;
  nsfw?: boolean;
}

const NAME = /^[-_\p{L}\p{N}]{1,32}$/u;

function nameProblems(name: string, at: string): string[] {
  if (!NAME.test(name)) return [`${at}.name: '${name}' does not match ${NAME}`];
  if (name !== name.toLowerCase()) return [`${at}.name: '${name}' must be lower case`];
  return [];
}

/** Problems with a chat-input command definition, as Discord checks them on create or overwrite. */
export function commandProblems(command: CommandJson, at = 'command'): string[] {
  const problems = nameProblems(command.name, at);
  if (len(command.description) < 1 || len(command.description) > 100)
    problems.push(`${at}.description: must be 1-100 long`);
  const options = command.options ?? [];
  if (options.length > 25) problems.push(`${at}.options: more than 25`);
  let optionalSeen = false;
  const names = new Set<string>();
  let chars = len(command.name) + len(command.description);
  options.forEach((o, i) => {
    const oat = `${at}.options[${i}]`;
    problems.push(...nameProblems(o.name, oat));
    if (names.has(o.name)) problems.push(`${oat}.name: '${o.name}' used twice`);
    names.add(o.name);
    if (len(o.description) < 1 || len(o.description) > 100)
      problems.push(`${oat}.description: must be 1-100 long`);
    if (!(o.type >= 3 && o.type <= 11)) problems.push(`${oat}.type: ${o.type} is not a value option`);
    if (o.required) {
      if (optionalSeen) problems.push(`${oat}: required options must be placed before non-required options`);
    } else optionalSeen = true;
    if (o.autocomplete && o.choices?.length) problems.push(`${oat}: autocomplete cannot be set with choices`);
    if (o.autocomplete && ![3, 4, 10].includes(o.type))
      problems.push(`${oat}: autocomplete on a non-text option`);
    if ((o.choices ?? []).length > 25) problems.push(`${oat}.choices: more than 25`);
    chars += len(o.name) + len(o.description);
    for (const c of o.choices ?? []) chars += len(c.name) + len(String(c.value));
  });
  if (chars > 4000) problems.push(`${at}: ${chars} characters in total, more than 4000`);
  return problems;
}

/** Problems with an autocomplete answer. */
export function choiceProblems(choices: Array<{ name: string; value: string | number }>): string[] {
  const problems: string[] = [];
  if (choices.length > 25) problems.push('choices: more than 25');
  choices.forEach((c, i) => {
    if (len(c.name) < 1 || len(c.name) > 100) problems.push(`choices[${i}].name: must be 1-100 long`);
    if (typeof c.value === 'string' && len(c.value) > 100)
      problems.push(`choices[${i}].value: longer than 100`);
  });
  return problems;
}
