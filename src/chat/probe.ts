import type { Logger } from 'pino';

/**
 * What `bbwatch doctor` asks of a chat platform: a probe that connects the way the adapter would,
 * checks one thing after another (connect, log in, the rooms announcements go to) and says what
 * it found. The core runs each check under a timeout and prints the checklist; it knows no
 * platform. Probes live in each adapter's folder beside the adapter.
 */

/** `ok`: works. `fail`: the bot would not work as configured. `warn`: works, but worth a look. `skip`: not tried. */
export type CheckStatus = 'ok' | 'fail' | 'warn' | 'skip';

export interface CheckOutcome {
  status: CheckStatus;
  /** What was found, in a few words (`logged in as bbwatch`, `Unknown Channel`). */
  detail?: string | undefined;
  /** For a failure or warning: what to do, in plain words, naming the config key. */
  fix?: string | undefined;
}

export interface CheckOptions {
  /** How long the check may take before it counts as failed (default: the doctor's). */
  timeoutMs?: number;
  /** The fix printed when it times out. */
  fixOnTimeout?: string;
}

/** What the doctor lends a probe. */
export interface ProbeServices {
  /**
   * Runs one check and records its outcome in the checklist, in order. A check that throws fails
   * with the error's message; one that takes longer than its timeout fails as timed out (its
   * signal is aborted). Resolves with the outcome recorded.
   */
  check(
    title: string,
    run: (signal: AbortSignal) => Promise<CheckOutcome>,
    opts?: CheckOptions,
  ): Promise<CheckOutcome>;
  /** Records a check that was not tried, and why (an earlier step it needs failed). */
  skip(title: string, why: string): void;
  /**
   * A configuration key as a fix line should name it, with the environment variable its value
   * came from: `chat.irc.sasl.password (from $BBWATCH_IRC_PASSWORD)`.
   */
  key(path: string): string;
  /** The adapter's persistent values (a saved session), read only. */
  state: { get(key: string): string | undefined };
  log: Logger;
}

/** One chat platform's checks. */
export interface PlatformProbe {
  readonly platform: string;
  run(services: ProbeServices): Promise<void>;
}

export const ok = (detail?: string): CheckOutcome => ({ status: 'ok', detail });
export const fail = (detail: string, fix: string): CheckOutcome => ({ status: 'fail', detail, fix });
export const warn = (detail: string, fix?: string): CheckOutcome => ({ status: 'warn', detail, fix });
