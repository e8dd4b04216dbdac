/**
 * The fake Discord's HTTP side: a small router for `/api/v10/...`, the bot-token check, a log of
 * every request, and the faults a test can ask for — a 429 with `retry_after` (and further 429s for
 * a request that comes back before the time is up, as Discord answers an impatient client), an
 * answer lost on the way back, and an outage in which everything is answered 503.
 */
import { EventEmitter } from 'node:events';
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import { type FilePart, MultipartError, parseMultipart } from './multipart.js';

export interface RestRequest {
  method: string;
  /** The path after `/api/v10`, without the query. */
  path: string;
  query: URLSearchParams;
  headers: IncomingHttpHeaders;
  body: unknown;
  /** The `files[n]` parts of a multipart request (none for JSON). */
  files: FilePart[];
}

export interface RestResponse {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

export type Handler = (req: RestRequest, params: string[]) => RestResponse;

/** One request as the fake saw it. */
export interface RequestRecord {
  method: string;
  path: string;
  query: string;
  /** Whether it carried the bot's `Authorization: Bot <token>`. */
  authorized: boolean;
  body: unknown;
  /** The files of a multipart request, by part: name, type and size. */
  files?: Array<{ index: number; filename: string; contentType: string; size: number }>;
  /** The request's Content-Type. */
  contentType?: string | undefined;
  status: number;
  at: number;
}

interface Route {
  method: string;
  pattern: RegExp;
  /** Interaction callbacks and webhooks are authorised by the token in the URL. */
  auth: boolean;
  handler: Handler;
}

interface RateLimitRule {
  method: string | undefined;
  path: RegExp;
  retryAfterS: number;
}

export const API_PREFIX = '/api/v10';

export class RestServer extends EventEmitter {
  readonly requests: RequestRecord[] = [];
  /** Requests no route matched: a sign the fake lacks an endpoint discord.js uses. */
  readonly unknown: RequestRecord[] = [];
  private readonly routes: Route[] = [];
  private readonly armed: RateLimitRule[] = [];
  private readonly lose: Array<{ method: string | undefined; path: RegExp }> = [];
  private readonly blockedUntil = new Map<string, number>();
  private outage = false;

  constructor(private readonly token: string) {
    super();
  }

  /** Adds a route; `:name` segments match one path segment each and are passed in order. */
  route(method: string, path: string, handler: Handler, { auth = true } = {}): void {
    const pattern = new RegExp(`^${path.replace(/:[a-z]+/gi, '([^/]+)')}$`);
    this.routes.push({ method, pattern, auth, handler });
  }

  /** The next request matching `path` (and `method`) gets a 429; retries before `retryAfterS` get one too. */
  rateLimitNext(path: RegExp, retryAfterS: number, method?: string): void {
    this.armed.push({ method, path, retryAfterS });
  }

  /** The next request matching `path` is carried out, but its answer is lost (the connection drops). */
  loseNextResponse(path: RegExp, method?: string): void {
    this.lose.push({ method, path });
  }

  setOutage(on: boolean): void {
    this.outage = on;
  }

  async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const method = (req.method ?? 'GET').toUpperCase();
    const raw = await readBody(req);
    const contentType = req.headers['content-type'];
    let body: unknown;
    let files: FilePart[] = [];
    let malformed: string | undefined;
    try {
      ({ body, files } = parseBody(raw, contentType));
    } catch (err) {
      if (!(err instanceof MultipartError)) throw err;
      malformed = err.message;
    }
    const pathname = url.pathname.split('/').map(decodeURIComponent).join('/'); // discord.js sends %40original
    const path = pathname.startsWith(API_PREFIX) ? pathname.slice(API_PREFIX.length) : pathname;
    const authorized = req.headers.authorization === `Bot ${this.token}`;
    const answer = malformed
      ? {
          status: 400,
          body: {
            code: 50035,
            message: 'Invalid Form Body',
            errors: { _errors: [{ code: 'MULTIPART_INVALID', message: malformed }] },
          },
        }
      : this.answer({ method, path, query: url.searchParams, headers: req.headers, body, files }, authorized);
    const record: RequestRecord = {
      method,
      path,
      query: url.search,
      authorized,
      body,
      ...(files.length > 0
        ? {
            files: files.map((f) => ({
              index: f.index,
              filename: f.filename,
              contentType: f.contentType,
              size: f.data.length,
            })),
          }
        : {}),
      contentType,
      status: answer.status,
      at: Date.now(),
    };
    this.requests.push(record);
    const lost = this.lose.findIndex((r) => (r.method ?? method) === method && r.path.test(path));
    if (lost >= 0 && answer.status < 300) {
      this.lose.splice(lost, 1);
      res.socket?.destroy();
      this.emit('request', record);
      return;
    }
    if (answer.status === 404 && (answer.body as { code?: number } | undefined)?.code === 0) {
      this.unknown.push(record);
    }
    const headers: Record<string, string> = { ...answer.headers };
    let text = '';
    if (answer.body !== undefined) {
      text = JSON.stringify(answer.body);
      headers['content-type'] = 'application/json';
    }
    res.writeHead(answer.status, headers);
    res.end(text);
    this.emit('request', record);
  }

  private answer(req: RestRequest, authorized: boolean): RestResponse {
    if (this.outage) return { status: 503, body: { message: 'upstream connect error', code: 0 } };
    if (!req.path.startsWith('/') || !req.path) return notFound();
    const limited = this.rateLimit(req);
    if (limited) return limited;
    for (const route of this.routes) {
      if (route.method !== req.method) continue;
      const match = route.pattern.exec(req.path);
      if (!match) continue;
      if (route.auth && !authorized) return { status: 401, body: { message: '401: Unauthorized', code: 0 } };
      try {
        return route.handler(req, match.slice(1));
      } catch (err) {
        return { status: 500, body: { message: `fake Discord: ${(err as Error).message}`, code: 0 } };
      }
    }
    return notFound();
  }

  private rateLimit(req: RestRequest): RestResponse | undefined {
    const key = `${req.method} ${req.path}`;
    const now = Date.now();
    let until = this.blockedUntil.get(key);
    if (until === undefined || until <= now) {
      const index = this.armed.findIndex(
        (r) => (r.method === undefined || r.method === req.method) && r.path.test(req.path),
      );
      if (index < 0) return undefined;
      const [rule] = this.armed.splice(index, 1);
      until = now + (rule?.retryAfterS ?? 1) * 1000;
      this.blockedUntil.set(key, until);
    }
    const retryAfter = Math.max(0.001, (until - now) / 1000);
    return {
      status: 429,
      headers: {
        'retry-after': String(Math.ceil(retryAfter)),
        'x-ratelimit-limit': '5',
        'x-ratelimit-remaining': '0',
        'x-ratelimit-reset-after': retryAfter.toFixed(3),
        'x-ratelimit-bucket': `fake-${Buffer.from(key).toString('hex').slice(0, 16)}`,
        'x-ratelimit-scope': 'user',
      },
      body: { message: 'You are being rate limited.', retry_after: retryAfter, global: false },
    };
  }
}

function notFound(): RestResponse {
  return { status: 404, body: { message: '404: Not Found', code: 0 } };
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

/**
 * JSON, or a multipart body (what discord.js sends when files are attached): `payload_json` is the
 * body, `files[n]` the files. A malformed multipart body throws MultipartError.
 */
function parseBody(raw: Buffer, contentType: string | undefined): { body: unknown; files: FilePart[] } {
  if (raw.length === 0) return { body: undefined, files: [] };
  if (contentType?.startsWith('multipart/form-data')) {
    const form = parseMultipart(raw, contentType);
    return { body: form.payload, files: form.files };
  }
  const text = raw.toString('utf8');
  try {
    return { body: JSON.parse(text), files: [] };
  } catch {
    return { body: text, files: [] };
  }
}
