import { isCodeVerdict, Results } from '../buildbot/results.js';
import type { FirstFailure, ReportBuild, ReportStore } from '../store/reports.js';

/** One builder's record over the period: verdict builds (green, orange, red) and how many were red. */
export interface BuilderRate {
  master: string;
  builderid: number;
  name: string;
  builds: number;
  red: number;
  /** red / builds, 0 to 1. */
  rate: number;
}

/** A run of consecutive red verdicts of one builder (EXCEPTION, RETRY, SKIPPED, CANCELLED builds skipped). */
export interface RedStreak {
  master: string;
  builderid: number;
  name: string;
  /** Red builds in the run, inside the period. */
  builds: number;
  firstNumber: number;
  /** Epoch seconds: the first red build's completion (the period's start when it was red before). */
  startAt: number;
  /** Epoch seconds: the build that ended it; undefined while still red. */
  endAt: number | undefined;
  /** It was already red when the period began. */
  beforePeriod: boolean;
  /** Seconds: until it ended, or until the end of the period. */
  durationS: number;
}

export interface FlakyTrend {
  test: string;
  /** Flaky outcomes in this period. */
  count: number;
  /** ... and in the period of the same length before it. */
  previous: number;
  trend: 'new' | 'up' | 'down' | 'same';
}

export interface Digest {
  days: number;
  /** Epoch seconds: the period is [from, until). */
  from: number;
  until: number;
  totals: { builders: number; builds: number; red: number };
  /** Builders with at least one red build, worst first. */
  rates: BuilderRate[];
  /** Longest first. */
  streaks: RedStreak[];
  flaky: FlakyTrend[];
  /** New failures are counted from here: the last digest, or the period's start. */
  newSince: number;
  /** Tests failing since `newSince` that had never failed before. */
  newFailures: FirstFailure[];
  /** Per day of the period, oldest first: how many builders were red at some time that day. */
  redPerDay: number[];
  /** Builders that turned red since `newSince` (streaks that began then; some may have ended), oldest first. */
  newlyRed: RedStreak[];
}

const RED = Results.FAILURE;

/**
 * A digest of the last `days` up to `now` (ms), from the stored build and test history.
 * `lastDigest` (epoch seconds) is when the previous digest went out: new failures count from it.
 */
export async function computeDigest(
  store: ReportStore,
  opts: { now: number; days: number; lastDigest?: number | undefined; limit?: number },
): Promise<Digest> {
  const limit = opts.limit ?? 5;
  const until = Math.floor(opts.now / 1000) + 1;
  const from = until - 1 - opts.days * 86_400;
  const builds = await store.buildsBetween(from, until);
  const before = new Map((await store.lastBefore(from)).map((b) => [`${b.master}:${b.builderid}`, b]));

  const byBuilder = new Map<string, ReportBuild[]>();
  for (const b of builds) {
    const key = `${b.master}:${b.builderid}`;
    const list = byBuilder.get(key) ?? [];
    list.push(b);
    byBuilder.set(key, list);
  }

  const rates: BuilderRate[] = [];
  const streaks: RedStreak[] = [];
  let total = 0;
  let totalRed = 0;
  let builders = 0;
  for (const [key, list] of byBuilder) {
    const first = list[0] as ReportBuild;
    const verdicts = list.filter((b) => isCodeVerdict(b.results));
    const red = verdicts.filter((b) => b.results === RED).length;
    if (verdicts.length > 0) builders++;
    total += verdicts.length;
    totalRed += red;
    if (red > 0) {
      rates.push({
        master: first.master,
        builderid: first.builderid,
        name: first.builder,
        builds: verdicts.length,
        red,
        rate: red / verdicts.length,
      });
    }
    let open: RedStreak | undefined;
    if (before.get(key)?.results === RED) {
      open = {
        master: first.master,
        builderid: first.builderid,
        name: first.builder,
        builds: 0,
        firstNumber: first.number,
        startAt: from,
        endAt: undefined,
        beforePeriod: true,
        durationS: 0,
      };
    }
    for (const b of verdicts) {
      if (b.results === RED) {
        open ??= {
          master: b.master,
          builderid: b.builderid,
          name: b.builder,
          builds: 0,
          firstNumber: b.number,
          startAt: b.completeAt,
          endAt: undefined,
          beforePeriod: false,
          durationS: 0,
        };
        if (open.builds === 0) open.firstNumber = b.number;
        open.builds++;
      } else if (open) {
        open.endAt = b.completeAt;
        open.durationS = b.completeAt - open.startAt;
        if (open.builds > 0) streaks.push(open);
        open = undefined;
      }
    }
    if (open && open.builds > 0) {
      open.durationS = until - 1 - open.startAt;
      streaks.push(open);
    }
  }
  const redPerDay = Array.from({ length: opts.days }, (_, i) => {
    const start = from + i * 86_400;
    const end = start + 86_400;
    const red = new Set(
      streaks
        .filter((s) => s.startAt < end && (s.endAt ?? until) > start)
        .map((s) => `${s.master}:${s.builderid}`),
    );
    return red.size;
  });
  rates.sort((a, b) => b.rate - a.rate || b.red - a.red || a.name.localeCompare(b.name));
  streaks.sort((a, b) => b.durationS - a.durationS || b.builds - a.builds || a.name.localeCompare(b.name));

  const period = opts.days * 86_400;
  const current = await store.flakyBetween(from, until);
  const previous = await store.flakyBetween(from - period, from);
  const flaky: FlakyTrend[] = [...current]
    .sort(([ta, a], [tb, b]) => b - a || ta.localeCompare(tb))
    .slice(0, limit)
    .map(([test, count]) => {
      const prev = previous.get(test) ?? 0;
      return {
        test,
        count,
        previous: prev,
        trend: prev === 0 ? 'new' : count > prev ? 'up' : count < prev ? 'down' : 'same',
      };
    });

  const newSince = opts.lastDigest !== undefined && opts.lastDigest > from ? opts.lastDigest : from;
  const newFailures = await store.firstFailures(newSince, until);
  const newlyRed = streaks
    .filter((s) => !s.beforePeriod && s.startAt >= newSince)
    .sort((a, b) => a.startAt - b.startAt || a.name.localeCompare(b.name));
  return {
    days: opts.days,
    from,
    until,
    totals: { builders, builds: total, red: totalRed },
    rates: rates.slice(0, limit),
    streaks: streaks.slice(0, limit),
    flaky,
    redPerDay,
    newSince,
    newFailures: newFailures.slice(0, limit),
    newlyRed: newlyRed.slice(0, limit),
  };
}
