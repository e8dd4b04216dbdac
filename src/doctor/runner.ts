/**
 * Runs the doctor's checks one after another, each under a timeout, and records what each found.
 * A check that throws fails with the error's words; one that takes too long fails as timed out and
 * its signal is aborted, so that the doctor never hangs on a dead host.
 */
import type { Logger } from 'pino';
import type { CheckOptions, CheckOutcome, ProbeServices } from '../chat/probe.js';
import { errorMessage } from '../errors.js';
import type { CheckResult } from './checklist.js';

/** A failure whose check gave no fix of its own. */
const UNEXPECTED_FIX =
  'unexpected: run again with --log-level debug to see more, and report it if it persists';

export interface RunnerOptions {
  /** A check's time unless it says otherwise. */
  timeoutMs: number;
  /** Told of each result as it is recorded (the text output prints as it goes). */
  onResult?: (result: CheckResult) => void;
}

export class CheckRunner {
  readonly results: CheckResult[] = [];

  constructor(private readonly opts: RunnerOptions) {}

  async check(
    section: string,
    title: string,
    run: (signal: AbortSignal) => Promise<CheckOutcome>,
    opts: CheckOptions = {},
  ): Promise<CheckOutcome> {
    const timeoutMs = opts.timeoutMs ?? this.opts.timeoutMs;
    const abort = new AbortController();
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<CheckOutcome>((resolve) => {
      timer = setTimeout(() => {
        abort.abort(new Error(`no answer within ${seconds(timeoutMs)}`));
        resolve({
          status: 'fail',
          detail: `no answer within ${seconds(timeoutMs)}`,
          fix:
            opts.fixOnTimeout ??
            'check that the host is up and that nothing between here and it drops the connection',
        });
      }, timeoutMs);
    });
    let outcome: CheckOutcome;
    try {
      outcome = await Promise.race([
        Promise.resolve()
          .then(() => run(abort.signal))
          .catch((err: unknown): CheckOutcome => ({
            status: 'fail',
            detail: errorMessage(err),
            fix: UNEXPECTED_FIX,
          })),
        timedOut,
      ]);
    } finally {
      clearTimeout(timer);
      // Whatever the check left running (a second request of a Promise.all that failed) stops now.
      abort.abort(new Error('the check is over'));
    }
    if (outcome.status === 'fail' && !outcome.fix) outcome = { ...outcome, fix: UNEXPECTED_FIX };
    this.record({ section, title, ...outcome });
    return outcome;
  }

  skip(section: string, title: string, why: string): void {
    this.record({ section, title, status: 'skip', detail: `not tried: ${why}` });
  }

  /** What a chat platform's probe gets: checks recorded under its section. */
  services(
    section: string,
    extra: { key(path: string): string; state: ProbeServices['state']; log: Logger },
  ): ProbeServices {
    return {
      check: (title, run, opts) => this.check(section, title, run, opts),
      skip: (title, why) => this.skip(section, title, why),
      ...extra,
    };
  }

  private record(result: CheckResult): void {
    this.results.push(result);
    this.opts.onResult?.(result);
  }
}

function seconds(ms: number): string {
  if (ms < 1000) return `${ms} ms`;
  return ms % 1000 === 0 ? `${ms / 1000} s` : `${(ms / 1000).toFixed(1)} s`;
}
