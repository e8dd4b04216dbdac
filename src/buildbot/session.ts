import type { Logger } from 'pino';
import { BbwatchError, HttpError } from '../errors.js';
import { USER_AGENT } from '../version.js';
import type { RequestBudget } from './budget.js';

/** How the bot identifies itself to a master: a Buildbot user, or a session cookie (OAuth masters). */
export type MasterAuth = { username: string; password: string } | { cookie: string };

/** The master refused the bot's credentials, or gave it no session; the message is fit for a reply. */
export class SessionError extends BbwatchError {
  override readonly forUser = true;
  constructor(message: string) {
    super('BB_ERR_SESSION', message);
  }
}

/** A read the master refused (HTTP 401 or 403), with a message that says what to change. */
export class ReadRefusedError extends HttpError {
  constructor(status: number, url: string, detail: string, explanation: string) {
    super(status, url, detail);
    this.message = explanation;
  }
}

export interface SessionOptions {
  /** The master's base URL, ending in `/`. */
  baseUrl: string;
  auth: MasterAuth | undefined;
  budget: RequestBudget;
  timeoutMs: number;
  log: Logger;
  /** How messages name the master. */
  masterName: string;
}

/**
 * The bot's session with one master, shared by REST, WebSocket, SSE and control. Without `auth`
 * every request is anonymous. With a session cookie, that cookie goes with every request. With a
 * user, the bot logs in (HTTP basic on `/auth/login`) when it first needs to: for control, or when
 * the master refuses an anonymous read (a master that allows anonymous reads is read without
 * logging in, so a wrong password only breaks control there); from then on the session goes with
 * every request, and the bot logs in again when the master stops accepting it. Buildbot 4.3 also
 * refuses an anonymous WebSocket on such a master (3.x lets it subscribe; SSE checks nothing).
 */
export class BuildbotSession {
  private cookie: string | undefined;
  private loggingIn: Promise<string> | undefined;

  constructor(private readonly opts: SessionOptions) {
    const auth = opts.auth;
    if (auth && 'cookie' in auth) {
      // "NAME=value", or a bare value for Buildbot's default cookie name.
      this.cookie = auth.cookie.includes('=') ? auth.cookie : `TWISTED_SESSION=${auth.cookie}`;
    }
  }

  get configured(): boolean {
    return this.opts.auth !== undefined;
  }

  get masterName(): string {
    return this.opts.masterName;
  }

  /** The `Cookie` header the bot has now (a configured cookie, or the session of a login), if any. */
  current(): string | undefined {
    return this.cookie;
  }

  /**
   * The `Cookie` header, logging in first when a user is configured and there is no session yet
   * (one login at a time, whoever asks); undefined without credentials.
   */
  async header(): Promise<string | undefined> {
    if (!this.opts.auth) return undefined;
    if (this.cookie !== undefined) return this.cookie;
    this.loggingIn ??= this.login().finally(() => {
      this.loggingIn = undefined;
    });
    return this.loggingIn;
  }

  /**
   * The master refused a request that carried `used` (undefined: none): forgets that session so
   * that the next `header()` logs in again. True when that can help, i.e. a user is configured
   * (the request was anonymous, or its session expired); false without credentials or with a
   * configured cookie.
   */
  renew(used: string | undefined): boolean {
    if (!this.opts.auth || !('username' in this.opts.auth)) return false;
    if (used !== undefined && this.cookie === used) this.cookie = undefined;
    return true;
  }

  /** Why the master refused a read (`what`: the request, e.g. `GET /api/v2/builders`), and what to do. */
  refusal(status: number, what: string, detail: string): string {
    const said = `HTTP ${status} on ${what}${detail ? `: ${detail}` : ''}`;
    const auth = this.opts.auth;
    if (!auth) {
      return (
        `${this.masterName} does not allow anonymous reads (${said}); give the bot a Buildbot user ` +
        'or a session cookie (masters[].auth in its config)'
      );
    }
    if ('username' in auth) {
      return `${this.masterName} does not let the bot's user '${auth.username}' read (${said})`;
    }
    return (
      `${this.masterName} refused the bot's session cookie (${said}); it may have expired: give the ` +
      'bot a fresh one (masters[].auth.cookie)'
    );
  }

  private async login(): Promise<string> {
    const auth = this.opts.auth;
    if (!auth || !('username' in auth))
      throw new SessionError(`no user to log in to ${this.masterName} with`);
    await this.opts.budget.take();
    // A network failure goes to the caller as it is: REST retries it like any other.
    const res = await fetch(new URL('auth/login', this.opts.baseUrl), {
      redirect: 'manual',
      headers: {
        'User-Agent': USER_AGENT,
        Authorization: `Basic ${Buffer.from(`${auth.username}:${auth.password}`).toString('base64')}`,
      },
      signal: AbortSignal.timeout(this.opts.timeoutMs),
    });
    await res.arrayBuffer().catch(() => undefined);
    if (res.status === 401 || res.status === 403) {
      throw new SessionError(
        `${this.masterName} refused the bot's credentials (HTTP ${res.status} on login)`,
      );
    }
    // The master sets an anonymous session first and the logged-in one last.
    const sessions = res.headers.getSetCookie().filter((c) => /^TWISTED_(SECURE_)?SESSION/.test(c));
    const last = sessions.at(-1)?.split(';')[0];
    if (!last) {
      throw new SessionError(`${this.masterName} gave the bot no session on login (HTTP ${res.status})`);
    }
    this.cookie = last;
    this.opts.log.info({ master: this.masterName }, 'logged in to the master');
    return last;
  }
}
