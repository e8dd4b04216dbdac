/**
 * Every error bbwatch raises on purpose, each with a stable code. The dispatcher and the CLI turn
 * these into short messages; anything else is a bug and is logged with its stack.
 */
export class BbwatchError extends Error {
  readonly code: string;
  /** The message is written for the person who asked, and is safe to show them as it is. */
  readonly forUser: boolean = false;
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = new.target.name;
  }
}

/** A configuration file that cannot be used. `issues` lists every problem, each naming its key. */
export class ConfigError extends BbwatchError {
  readonly issues: readonly string[];
  constructor(issues: readonly string[], source = 'config') {
    super('BB_ERR_CONFIG', `${source}: ${issues.length === 1 ? issues[0] : `${issues.length} problems`}`);
    this.issues = issues;
  }
}

/** Wrong arguments to a chat command: the dispatcher answers with the command's usage. */
export class UsageError extends BbwatchError {
  constructor(message = 'wrong arguments') {
    super('BOT_ERR_USAGE', message);
  }
}

/** A request that cannot be answered as asked (unknown builder, ambiguous name...): replied verbatim. */
export class UserError extends BbwatchError {
  override readonly forUser = true;
  constructor(message: string) {
    super('BOT_ERR_USER', message);
  }
}

/** The caller lacks the permission a command needs. */
export class PermissionError extends BbwatchError {
  override readonly forUser = true;
  constructor(message: string) {
    super('BOT_ERR_PERMISSION', message);
  }
}

/** A Buildbot master answered with an HTTP error status. */
export class HttpError extends BbwatchError {
  readonly status: number;
  readonly url: string;
  constructor(status: number, url: string, detail: string) {
    super('BB_ERR_HTTP', `HTTP ${status} from ${url}${detail ? `: ${detail}` : ''}`);
    this.status = status;
    this.url = url;
  }
}

/** A Buildbot master could not be reached, timed out, or answered something that is not its API. */
export class MasterError extends BbwatchError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('BB_ERR_MASTER', message, options);
  }
}

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
