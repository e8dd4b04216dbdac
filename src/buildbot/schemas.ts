import { z } from 'zod';
import type { ForceField, ForceScheduler } from './control.js';
import type {
  BuildbotBuild,
  BuildbotBuilder,
  BuildbotChange,
  BuildbotLog,
  BuildbotStep,
  BuildbotWorker,
} from './types.js';

/**
 * What the bot checks of the master's REST answers before believing them (src/buildbot/types.ts
 * says what each field means). Loose objects: fields the bot does not read, and fields a newer
 * Buildbot adds, pass through untouched; a field the bot reads with the wrong type is refused.
 */

const id = z.number().int();
const epoch = z.number();

export const builderSchema: z.ZodType<BuildbotBuilder> = z.looseObject({
  builderid: id,
  name: z.string(),
  masterids: z.array(id),
  description: z.string().nullish(),
  tags: z.array(z.string()),
});

export const buildSchema: z.ZodType<BuildbotBuild> = z.looseObject({
  buildid: id,
  number: id,
  builderid: id,
  buildrequestid: id.optional(),
  workerid: id.optional(),
  masterid: id.optional(),
  started_at: epoch,
  complete_at: epoch.nullable(),
  complete: z.boolean(),
  state_string: z.string(),
  results: id.nullable(),
  // Each property is [value, source]; the values are whatever the build set, read where used.
  properties: z.record(z.string(), z.tuple([z.unknown(), z.string()])).optional(),
});

export const stepSchema: z.ZodType<BuildbotStep> = z.looseObject({
  stepid: id,
  number: id,
  name: z.string(),
  buildid: id,
  results: id.nullable(),
  state_string: z.string(),
  complete: z.boolean(),
  hidden: z.boolean().optional(),
  started_at: epoch.nullish(),
  complete_at: epoch.nullish(),
});

export const logSchema: z.ZodType<BuildbotLog> = z.looseObject({
  logid: id,
  name: z.string(),
  slug: z.string(),
  stepid: id,
  type: z.string(),
  num_lines: id,
  complete: z.boolean(),
});

export const changeSchema: z.ZodType<BuildbotChange> = z.looseObject({
  changeid: id,
  author: z.string(),
  committer: z.string().nullish(),
  comments: z.string(),
  revision: z.string().nullable(),
  when_timestamp: epoch,
  branch: z.string().nullable(),
  revlink: z.string().nullish(),
  repository: z.string().optional(),
});

export const workerSchema: z.ZodType<BuildbotWorker> = z.looseObject({
  workerid: id,
  name: z.string(),
  connected_to: z.array(z.looseObject({ masterid: id })),
  configured_on: z.array(z.looseObject({ masterid: id, builderid: id })),
});

const forceFieldSchema: z.ZodType<ForceField> = z.lazy(() =>
  z.looseObject({
    name: z.string(),
    fullName: z.string().nullable(),
    type: z.string(),
    default: z.unknown().optional(),
    required: z.boolean().optional(),
    fields: z.array(forceFieldSchema).optional(),
  }),
);

/** A force scheduler (`/forceschedulers`) and its parameters, nested ones included. */
export const forceSchedulerSchema: z.ZodType<ForceScheduler> = z.looseObject({
  name: z.string(),
  builder_names: z.array(z.string()),
  enabled: z.boolean().optional(),
  all_fields: z.array(forceFieldSchema),
});

/** A piece of a log's text (`/logs/<id>/contents`). */
export const logChunkSchema = z.looseObject({ firstline: id, content: z.string() });

/** The first thing wrong with an answer, said in a line: `item 3: results: expected number, received string`. */
export function firstProblem(error: z.ZodError, index: number): string {
  const issue = error.issues[0];
  if (!issue) return `item ${index}: not as expected`;
  const where = issue.path.length > 0 ? `${issue.path.join('.')}: ` : '';
  return `item ${index}: ${where}${issue.message.replace(/^Invalid input: /, '')}`;
}
