/** Buildbot's data API v2 shapes, as far as bbwatch reads them (Buildbot 3.x and 4.x). */

export { RESULT_NAMES, type ResultCode, Results } from './results.js';

export interface BuildbotBuilder {
  builderid: number;
  name: string;
  masterids: number[];
  description?: string | null;
  tags: string[];
}

export interface BuildbotBuild {
  buildid: number;
  number: number;
  builderid: number;
  buildrequestid?: number;
  workerid?: number;
  masterid?: number;
  started_at: number;
  complete_at: number | null;
  complete: boolean;
  state_string: string;
  results: number | null;
  properties?: Record<string, [unknown, string]>;
}

/** A build's step (`/builds/<id>/steps`). */
export interface BuildbotStep {
  stepid: number;
  number: number;
  name: string;
  buildid: number;
  /** null while running; see {@link Results}. */
  results: number | null;
  state_string: string;
  complete: boolean;
  hidden?: boolean;
  started_at?: number | null;
  complete_at?: number | null;
}

/** A step's log (`/steps/<id>/logs`). */
export interface BuildbotLog {
  logid: number;
  name: string;
  slug: string;
  stepid: number;
  /** `s`: stdio, each line tagged with its stream (`o`, `e`, `h` for Buildbot's own header); `t`: text; `h`: HTML. */
  type: string;
  num_lines: number;
  complete: boolean;
}

export interface BuildbotChange {
  changeid: number;
  author: string;
  committer?: string | null;
  comments: string;
  revision: string | null;
  when_timestamp: number;
  branch: string | null;
  revlink?: string | null;
  repository?: string;
}

export interface BuildbotWorker {
  workerid: number;
  name: string;
  connected_to: Array<{ masterid: number }>;
  configured_on: Array<{ masterid: number; builderid: number }>;
}
