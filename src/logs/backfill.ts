import type { Logger } from 'pino';
import type { BuildbotRest } from '../buildbot/rest.js';
import type { BuildbotBuild } from '../buildbot/types.js';
import { errorMessage } from '../errors.js';
import { builderBranch } from '../state/branches.js';
import type { TestStore } from '../store/tests.js';
import { readBuild } from './build-read.js';
import { type LogSource, NoTestLogError } from './reader.js';

export interface BackfillProgress {
  master: string;
  done: number;
  total: number;
  skipped: number;
  failed: number;
  /**
   * Builds analysed now that failed outside their tests, per cause (`compile`, `worker-lost`,
   * `exception` for a step that raised on the master...; see src/logs/failure-kind.ts).
   */
  causes: Record<string, number>;
}

const PAGE = 200;

/**
 * Analyses the orange, red and purple builds of the last `days` days that the store has not
 * analysed yet, oldest first, within the master's request budget: their test logs, and for red and
 * purple ones why they failed (a compile failure, a lost worker...), as the live analyzer does.
 * Resumable: what is stored is skipped, so an interrupted run picks up where it stopped.
 */
export async function backfillMaster(opts: {
  master: string;
  rest: BuildbotRest;
  logs: LogSource;
  store: TestStore;
  days: number;
  log: Logger;
  onProgress?: (p: BackfillProgress) => void;
  signal?: AbortSignal;
  now?: () => number;
}): Promise<BackfillProgress> {
  const now = opts.now ?? Date.now;
  const since = Math.floor(now() / 1000) - Math.round(opts.days * 86_400);
  const builders = new Map((await opts.rest.builders(opts.signal)).map((b) => [b.builderid, b]));
  const builds: BuildbotBuild[] = [];
  for (let offset = 0; ; offset += PAGE) {
    const page = await opts.rest.failedBuildsSince(since, PAGE, offset, opts.signal);
    builds.push(...page);
    if (page.length < PAGE) break;
  }
  const progress: BackfillProgress = {
    master: opts.master,
    done: 0,
    total: builds.length,
    skipped: 0,
    failed: 0,
    causes: {},
  };
  opts.onProgress?.({ ...progress, causes: { ...progress.causes } });
  for (const build of builds) {
    opts.signal?.throwIfAborted();
    const known = await opts.store.get(opts.master, build.buildid);
    if (known && known.status !== 'pending') {
      progress.skipped++;
    } else {
      try {
        const { result, cause } = await readBuild(opts.rest, build, opts.logs, {
          ended: { results: build.results, stateString: build.state_string },
          ...(opts.signal ? { signal: opts.signal } : {}),
        });
        const builder = builders.get(build.builderid);
        await opts.store.saveDone(
          { master: opts.master, buildid: build.buildid, builderid: build.builderid, number: build.number },
          result?.analysis,
          result?.logUrl ?? cause?.logUrl,
          {
            name: builder?.name ?? `builder ${build.builderid}`,
            branch: builder ? (builderBranch(builder.name, builder.tags) ?? null) : null,
          },
          build.complete_at ?? since,
          now(),
          cause,
        );
        if (cause && cause.kind !== 'test') {
          const label = cause.exception ? 'exception' : cause.kind;
          progress.causes[label] = (progress.causes[label] ?? 0) + 1;
        }
      } catch (err) {
        if (opts.signal?.aborted) throw err;
        progress.failed++;
        await opts.store.enqueue({ master: opts.master, ...pick(build) }, false, now());
        await opts.store.saveFailed(
          opts.master,
          build.buildid,
          errorMessage(err),
          err instanceof NoTestLogError,
        );
        opts.log.warn(
          { master: opts.master, buildid: build.buildid, err: errorMessage(err) },
          'back-fill: log not analysed',
        );
      }
    }
    progress.done++;
    opts.onProgress?.({ ...progress, causes: { ...progress.causes } });
  }
  return progress;
}

function pick(b: BuildbotBuild) {
  return { buildid: b.buildid, builderid: b.builderid, number: b.number };
}
