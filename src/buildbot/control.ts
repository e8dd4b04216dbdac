import { BbwatchError, errorMessage } from '../errors.js';
import { USER_AGENT } from '../version.js';
import type { RequestBudget } from './budget.js';
import { firstProblem, forceSchedulerSchema } from './schemas.js';
import type { BuildbotSession } from './session.js';

/** A control request the master (or the network) refused; `message` is fit for a chat reply. */
export class ControlError extends BbwatchError {
  override readonly forUser = true;
  constructor(message: string) {
    super('BB_ERR_CONTROL', message);
  }
}

/** A force scheduler and its parameters, from `/forceschedulers`. */
export interface ForceScheduler {
  name: string;
  builder_names: string[];
  enabled?: boolean;
  all_fields: ForceField[];
}

export interface ForceField {
  name: string;
  /** null for a nested parameter's container (Buildbot's layout groups, `name` ''). */
  fullName: string | null;
  type: string;
  default?: unknown;
  required?: boolean;
  fields?: ForceField[];
}

/** Who the master takes the bot's session for, as its web config says (`user`). */
export interface BuildbotUser {
  anonymous: boolean;
  username?: string;
  email?: string;
  fullName?: string;
  /** Groups the login reported (what role matchers such as RolesFromGroups turn into roles). */
  groups: string[];
}

/** `[bsid, {builderid: brid}]`, as force and rebuild answer. */
export type BuildsetResult = { bsid: number; brids: Record<string, number> };

/**
 * Buildbot's control API (JSON-RPC over POST) for force, stop and rebuild, in the bot's session with
 * the master (see BuildbotSession: a Buildbot user it logs in as, logging in again when the master
 * stops accepting the session, or a session cookie given in the configuration). Errors become
 * ControlErrors whose messages say what the master said.
 */
export class BuildbotControl {
  private nextId = 1;

  constructor(
    private readonly opts: {
      baseUrl: string;
      budget: RequestBudget;
      timeoutMs: number;
      session: BuildbotSession;
      masterName: string;
    },
  ) {}

  get configured(): boolean {
    return this.opts.session.configured;
  }

  async forceSchedulers(): Promise<ForceScheduler[]> {
    const body = (await this.send('GET', 'forceschedulers')).answer as { forceschedulers?: unknown };
    if (!Array.isArray(body.forceschedulers))
      throw new ControlError(`${this.opts.masterName} did not list its force schedulers`);
    return body.forceschedulers.map((item: unknown, i) => {
      const parsed = forceSchedulerSchema.safeParse(item);
      if (parsed.success) return parsed.data;
      throw new ControlError(
        `${this.opts.masterName} listed its force schedulers in a shape the bot cannot read (${firstProblem(parsed.error, i)})`,
      );
    });
  }

  async force(scheduler: string, params: Record<string, unknown>): Promise<BuildsetResult> {
    return asBuildset(await this.rpc(`forceschedulers/${encodeURIComponent(scheduler)}`, 'force', params));
  }

  async stop(buildid: number, reason: string): Promise<void> {
    await this.rpc(`builds/${buildid}`, 'stop', { reason });
  }

  async rebuild(buildid: number): Promise<BuildsetResult> {
    return asBuildset(await this.rpc(`builds/${buildid}`, 'rebuild', {}));
  }

  /**
   * Logs in (or takes the configured cookie) and asks the master who that session is: the web
   * config's `user`, which is `{anonymous: true}` for a session the master does not know.
   */
  async whoami(): Promise<BuildbotUser> {
    if (!this.opts.session.configured) {
      throw new ControlError(`the bot has no credentials for ${this.opts.masterName}`);
    }
    const cookie = await this.opts.session.header();
    await this.opts.budget.take();
    let res: Response;
    let body: { user?: Record<string, unknown> } | undefined;
    try {
      res = await fetch(new URL('config', this.opts.baseUrl), {
        headers: {
          'User-Agent': USER_AGENT,
          Accept: 'application/json',
          ...(cookie ? { Cookie: cookie } : {}),
        },
        signal: AbortSignal.timeout(this.opts.timeoutMs),
      });
      body = (await res.json().catch(() => undefined)) as typeof body;
    } catch (err) {
      throw new ControlError(`${this.opts.masterName} could not be reached (${errorMessage(err)})`);
    }
    const user = body?.user;
    if (!res.ok || !user || typeof user !== 'object') {
      throw new ControlError(
        `${this.opts.masterName} did not say who the bot is (HTTP ${res.status} on config)`,
      );
    }
    const text = (key: string) => (typeof user[key] === 'string' ? (user[key] as string) : undefined);
    const username = text('username');
    const email = text('email');
    const fullName = text('full_name');
    return {
      anonymous: user.anonymous === true || (!username && !email),
      ...(username ? { username } : {}),
      ...(email ? { email } : {}),
      ...(fullName ? { fullName } : {}),
      groups: Array.isArray(user.groups) ? user.groups.filter((g): g is string => typeof g === 'string') : [],
    };
  }

  private async rpc(path: string, method: string, params: Record<string, unknown>): Promise<unknown> {
    if (!this.configured) {
      throw new ControlError(
        `the bot has no credentials for ${this.opts.masterName} (masters[].auth in its config)`,
      );
    }
    const body = { jsonrpc: '2.0', method, params, id: this.nextId++ };
    const first = await this.send('POST', path, body);
    let answer = first.answer;
    if (isAuthzFailure(answer) && this.opts.session.renew(first.cookie)) {
      // The session may have expired: log in again once, then believe the master.
      answer = (await this.send('POST', path, body)).answer;
    }
    const reply = answer as {
      result?: unknown;
      error?: { code?: number; message?: unknown };
      httpStatus?: number;
    };
    if (reply.error)
      throw new ControlError(describeRpcError(this.opts.masterName, reply.error, reply.httpStatus));
    return reply.result;
  }

  /** The session's cookie (logging in when needed); a login that fails becomes a reply. */
  private async cookie(): Promise<string | undefined> {
    try {
      return await this.opts.session.header();
    } catch (err) {
      if (err instanceof BbwatchError) throw err;
      throw new ControlError(`${this.opts.masterName} could not be reached to log in (${errorMessage(err)})`);
    }
  }

  private async send(
    method: 'GET' | 'POST',
    path: string,
    body?: unknown,
  ): Promise<{ answer: unknown; cookie: string | undefined }> {
    const cookie = await this.cookie();
    await this.opts.budget.take();
    let res: Response;
    try {
      res = await fetch(new URL(`api/v2/${path}`, this.opts.baseUrl), {
        method,
        headers: {
          'User-Agent': USER_AGENT,
          Accept: 'application/json',
          ...(body ? { 'Content-Type': 'application/json' } : {}),
          ...(cookie ? { Cookie: cookie } : {}),
        },
        ...(body ? { body: JSON.stringify(body) } : {}),
        signal: AbortSignal.timeout(this.opts.timeoutMs),
      });
    } catch (err) {
      throw new ControlError(`${this.opts.masterName} could not be reached (${errorMessage(err)})`);
    }
    const text = await res.text();
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      throw new ControlError(
        `${this.opts.masterName} answered HTTP ${res.status} with something that is not JSON`,
      );
    }
    if (method === 'GET' && !res.ok)
      throw new ControlError(`${this.opts.masterName} answered HTTP ${res.status}`);
    if (parsed && typeof parsed === 'object') (parsed as { httpStatus?: number }).httpStatus = res.status;
    return { answer: parsed, cookie };
  }
}

function isAuthzFailure(answer: unknown): boolean {
  const a = answer as { httpStatus?: number; error?: unknown };
  return a.httpStatus === 403 && a.error !== undefined;
}

function describeRpcError(
  master: string,
  error: { code?: number; message?: unknown },
  status?: number,
): string {
  const message = error.message;
  if (message && typeof message === 'object') {
    // Force validation: {fieldFullName: errorText}.
    const fields = Object.entries(message as Record<string, unknown>).map(([k, v]) => `${k}: ${String(v)}`);
    return `${master} refused the parameters (${fields.join('; ').slice(0, 300)})`;
  }
  const text = String(message ?? 'no message').slice(0, 300);
  if (status === 403) return `${master} does not let the bot do that (${text})`;
  if (status === 404) return `${master} has no such thing (${text})`;
  if (status === 501) return `${master} does not support that (${text})`;
  return `${master} failed (${text})`;
}

function asBuildset(result: unknown): BuildsetResult {
  if (Array.isArray(result) && typeof result[0] === 'number' && result[1] && typeof result[1] === 'object') {
    return { bsid: result[0], brids: result[1] as Record<string, number> };
  }
  throw new ControlError('the master answered the request in an unexpected shape');
}
