import type { BuildbotRest } from './rest.js';
import { type BuildbotLog, type BuildbotStep, Results } from './types.js';

/** A build step as the failure classifier sees it. */
export interface StepFacts {
  number: number;
  name: string;
  /** Buildbot's result code (see {@link Results}); null while running. */
  results: number | null;
  stateString: string;
}

/** One line of a step's log: Buildbot's own header lines (the command, `command timed out: ...`) apart. */
export interface TailLine {
  stream: 'header' | 'output';
  text: string;
}

/** What a finished build's steps say about why it failed: cheap to read (three requests). */
export interface FailureEvidence {
  steps: StepFacts[];
  /** The first step that failed, with the end of its log; undefined when no step failed. */
  failing?: {
    step: StepFacts;
    /** The log read, and where people read it (the master's UI). */
    log?: { name: string; url: string };
    /** The last lines of that log. */
    tail: TailLine[];
  };
}

/** Lines read from the end of the failing step's log. */
export const TAIL_LINES = 80;
/** Longer lines are cut: a line is evidence, not a payload. */
const MAX_LINE = 1000;

/** Step results that make a build red or purple, or mean the worker went away (RETRY). */
const FAILED: ReadonlySet<number | null> = new Set([Results.FAILURE, Results.EXCEPTION, Results.RETRY]);

/**
 * Reads a build's steps, picks the first one that failed, and reads the end of its log: the stdio
 * log, or for a step that raised on the master its `err.text`, or the step's other text log when
 * stdio is empty (a lost worker's step keeps the `ConnectionLost` in a log of its own).
 */
export async function readFailureEvidence(
  rest: BuildbotRest,
  build: { buildid: number; builderid: number; number: number },
  signal?: AbortSignal,
): Promise<FailureEvidence> {
  const raw = await rest.buildSteps(build.buildid, signal);
  const ordered = [...raw].sort((a, b) => a.number - b.number);
  const steps = ordered.map(stepFacts);
  const failed = ordered.find((s) => FAILED.has(s.results));
  if (!failed) return { steps };
  const step = stepFacts(failed);
  const log = pickLog(await rest.stepLogs(failed.stepid, signal), failed.results);
  if (!log) return { steps, failing: { step, tail: [] } };
  const offset = Math.max(0, log.num_lines - TAIL_LINES);
  const lines = await rest.logLines(log.logid, offset, log.num_lines - offset, signal);
  return {
    steps,
    failing: {
      step,
      log: {
        name: log.name,
        url: `${rest.baseUrl}#/builders/${build.builderid}/builds/${build.number}/steps/${failed.number}/logs/${log.slug}`,
      },
      tail: lines.map((line) => tailLine(line, log.type === 's')),
    },
  };
}

function stepFacts(s: BuildbotStep): StepFacts {
  return { number: s.number, name: s.name, results: s.results, stateString: s.state_string ?? '' };
}

/** The log that tells why the step failed: see {@link readFailureEvidence}. */
function pickLog(logs: readonly BuildbotLog[], results: number | null): BuildbotLog | undefined {
  const withLines = logs.filter((l) => l.num_lines > 0 && l.type !== 'h');
  const named = (name: string) => withLines.find((l) => l.name === name);
  if (results === Results.EXCEPTION) {
    const err = named('err.text');
    if (err) return err;
  }
  return named('stdio') ?? withLines.find((l) => l.type === 't') ?? withLines[0];
}

/** A line of a stdio log comes tagged with its stream: `o` stdout, `e` stderr, `h` Buildbot's header. */
function tailLine(raw: string, tagged: boolean): TailLine {
  const line = raw.length > MAX_LINE ? raw.slice(0, MAX_LINE) : raw;
  if (!tagged) return { stream: 'output', text: line };
  const tag = line.charAt(0);
  return {
    stream: tag === 'h' ? 'header' : 'output',
    text: tag === 'o' || tag === 'e' || tag === 'h' ? line.slice(1) : line,
  };
}

/**
 * The summary of the first step that failed, from a red build's state string alone (no request):
 * Buildbot writes `failed`, then each failed step's summary (its `descriptionDone`, else its
 * command) followed by its result, `failed compile (failure)`, `failed update (warnings) test
 * (failure)` (buildbot/process/build.py). Undefined when the string is not of that shape.
 */
export function failedStepSummary(stateString: string): string | undefined {
  if (!stateString.startsWith('failed ')) return undefined;
  // A state string is a line of words; a longer one is not Buildbot's.
  const text = stateString.slice(0, 2000);
  const parts = /(.*?) \((success|warnings|failure|skipped|exception|retry|cancelled)\)(?: |$)/gy;
  parts.lastIndex = 'failed '.length;
  for (let m = parts.exec(text); m; m = parts.exec(text)) {
    if (m[2] === 'failure') return m[1]?.trim() || undefined;
  }
  return undefined;
}
