/**
 * `multipart/form-data` as Discord reads a message with files: a `payload_json` part (the JSON
 * body) and `files[n]` parts, each with a filename. Anything else — no boundary, a part without a
 * name, another field, unreadable JSON, a missing closing delimiter — is malformed, and Discord
 * answers 400.
 */

export interface FilePart {
  /** `files[n]`: n is what `attachments[].id` refers to. */
  index: number;
  filename: string;
  contentType: string;
  data: Buffer;
}

export interface Form {
  payload: unknown;
  files: FilePart[];
}

export class MultipartError extends Error {}

export function parseMultipart(raw: Buffer, contentType: string): Form {
  const boundary = /boundary=(?:"([^"]+)"|([^;\s]+))/i.exec(contentType);
  const name = boundary?.[1] ?? boundary?.[2];
  if (!name) throw new MultipartError('multipart body without a boundary');
  const delimiter = Buffer.from(`--${name}`);
  if (raw.indexOf(delimiter) !== 0)
    throw new MultipartError('multipart body does not start with its boundary');
  const next = Buffer.from(`\r\n--${name}`);
  const form: Form = { payload: undefined, files: [] };
  let at = delimiter.length;
  for (;;) {
    if (raw.subarray(at, at + 2).toString('latin1') === '--') return checked(form);
    if (raw.subarray(at, at + 2).toString('latin1') !== '\r\n')
      throw new MultipartError('a boundary is not followed by a line break');
    const end = raw.indexOf(next, at + 2);
    if (end < 0) throw new MultipartError('multipart body without its closing boundary');
    readPart(raw.subarray(at + 2, end), form);
    at = end + next.length;
  }
}

function readPart(part: Buffer, form: Form): void {
  const split = part.indexOf('\r\n\r\n');
  if (split < 0) throw new MultipartError('a part without headers');
  const headers = new Map<string, string>();
  for (const line of part.subarray(0, split).toString('utf8').split('\r\n')) {
    const colon = line.indexOf(':');
    if (colon > 0) headers.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim());
  }
  const data = part.subarray(split + 4);
  const disposition = headers.get('content-disposition') ?? '';
  const field = /;\s*name="([^"]*)"/.exec(disposition)?.[1];
  const filename = /;\s*filename="([^"]*)"/.exec(disposition)?.[1];
  if (!/^form-data\b/.test(disposition) || field === undefined)
    throw new MultipartError('a part without Content-Disposition: form-data; name=…');
  if (field === 'payload_json') {
    if (form.payload !== undefined) throw new MultipartError('payload_json twice');
    try {
      form.payload = JSON.parse(data.toString('utf8'));
    } catch {
      throw new MultipartError('payload_json is not JSON');
    }
    return;
  }
  const index = /^files\[(\d{1,2})\]$/.exec(field)?.[1];
  if (index === undefined) throw new MultipartError(`unexpected form field '${field}'`);
  if (!filename) throw new MultipartError(`${field} has no filename`);
  if (form.files.some((f) => f.index === Number(index))) throw new MultipartError(`${field} twice`);
  form.files.push({
    index: Number(index),
    filename,
    contentType: headers.get('content-type') ?? 'application/octet-stream',
    data: Buffer.from(data),
  });
}

function checked(form: Form): Form {
  if (form.payload !== undefined && (typeof form.payload !== 'object' || form.payload === null))
    throw new MultipartError('payload_json is not an object');
  return form;
}
