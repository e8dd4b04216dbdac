import { BUILD_PAGE_URL_SHAPE, parseBuildPageUrl } from '../buildbot/urls.js';
import type { MasterConfig } from '../config/schema.js';
import { errorMessage, HttpError } from '../errors.js';
import { analyzeLogFile } from '../logs/file-log.js';
import { analyzeBuildLog, type LogSource, NoTestLogError } from '../logs/reader.js';
import type { RegrtestAnalysis } from '../logs/regrtest.js';
import { formatReport, jsonReport } from '../logs/report.js';
import { analyzeStream } from '../logs/tail-first.js';

/** Exit codes of `bbwatch analyze`: 0 analysed, 1 could not read, 3 no test summary in the log. */
export const EXIT_NO_SUMMARY = 3;

/** The report prints each failing test's first traceback: read back until the tail has them. */
const READ = { wantTracebacks: true } as const;

/**
 * `bbwatch analyze <log file | build URL | ->`: the same analysis the bot makes, for a log someone
 * downloaded or a build on a master. Human-readable, or `--json`.
 */
export async function analyzeCommand(
  target: string,
  opts: {
    json: boolean;
    logs: LogSource;
    /** Configured masters: a build URL on one of them is read with its `auth` and request budget. */
    masters?: readonly MasterConfig[];
  },
  out: NodeJS.WritableStream = process.stdout,
): Promise<number> {
  let analysis: RegrtestAnalysis;
  try {
    analysis = /^https?:\/\//.test(target)
      ? await fromBuildUrl(target, opts.logs, opts.masters ?? [])
      : await fromFile(target);
  } catch (err) {
    if (err instanceof NoTestLogError) {
      out.write(
        opts.json ? `${JSON.stringify({ error: err.message })}\n` : `no test summary found: ${err.message}\n`,
      );
      return EXIT_NO_SUMMARY;
    }
    process.stderr.write(`bbwatch analyze: ${errorMessage(err)}\n`);
    return 1;
  }
  if (opts.json) out.write(`${JSON.stringify(jsonReport(analysis), null, 2)}\n`);
  else out.write(`${formatReport(analysis).join('\n')}\n`);
  return analysis.summaryFound || analysis.failed.length > 0 ? 0 : EXIT_NO_SUMMARY;
}

/**
 * A log file, read tail first like a log on the master (src/logs/file-log.ts); stdin (`-`) cannot
 * be read from the end and is streamed through the parser without being held.
 */
export async function fromFile(path: string): Promise<RegrtestAnalysis> {
  if (path !== '-') return (await analyzeLogFile(path, READ)).analysis;
  const stdin = async (onChunk: (chunk: Uint8Array) => void) => {
    for await (const chunk of process.stdin) onChunk(chunk as Uint8Array);
  };
  return (await analyzeStream(stdin)).analysis;
}

/**
 * A build's page on its master (`https://master/#/builders/12/builds/345`) → its test log, read
 * tail first. A master of the config (`--config`) is asked as the bot asks it: logged in with its
 * `auth`, within its request budget; any other anonymously.
 */
async function fromBuildUrl(
  url: string,
  logs: LogSource,
  masters: readonly MasterConfig[],
): Promise<RegrtestAnalysis> {
  const page = parseBuildPageUrl(url);
  if (!page) throw new Error(`not a build URL (expected ${BUILD_PAGE_URL_SHAPE}): ${url}`);
  // Loaded here, not at the top: reading a local file should not pay for the HTTP client and logger.
  const [{ default: pino }, { RequestBudget }, { BuildbotRest }, { masterRest }] = await Promise.all([
    import('pino'),
    import('../buildbot/budget.js'),
    import('../buildbot/rest.js'),
    import('../buildbot/master-rest.js'),
  ]);
  const log = pino({ level: 'silent' });
  const configured = masters.find((m) => sameMasterUrl(m.url, page.masterUrl));
  const rest = configured
    ? masterRest(configured, log)
    : new BuildbotRest({
        baseUrl: page.masterUrl,
        budget: new RequestBudget(20, 10_000),
        timeoutMs: 30_000,
        log,
      });
  try {
    const build = await rest.build(page.builderid, page.number);
    if (!build) throw new Error(`no build ${page.number} on builder ${page.builderid}`);
    return (await analyzeBuildLog(rest, build, logs, READ)).analysis;
  } catch (err) {
    // A private master: say how to give the bot its login.
    if (!configured && err instanceof HttpError && (err.status === 401 || err.status === 403)) {
      throw new Error(
        `${errorMessage(err)} (a master that needs a login: give --config with that master and its auth)`,
      );
    }
    throw err;
  }
}

/** The same master whatever the trailing slash or the host's case. */
function sameMasterUrl(a: string, b: string): boolean {
  const norm = (u: string) => {
    try {
      const url = new URL(u);
      return `${url.protocol}//${url.host}${url.pathname.replace(/\/*$/, '/')}`;
    } catch {
      return u;
    }
  };
  return norm(a) === norm(b);
}
