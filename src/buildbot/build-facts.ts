import type { BuildbotRest } from './rest.js';

/** What a tracker report says of where a build ran: from its Buildbot properties. */
export interface BuildFacts {
  worker: string | undefined;
  branch: string | undefined;
  revision: string | undefined;
}

/** Buildbot's properties for them: set on every build by the master (workername) and the source step. */
const PROPERTIES = ['workername', 'got_revision', 'revision', 'branch'];

/** One request: `GET /builds/<id>?property=workername&property=got_revision&...`. */
export async function readBuildFacts(rest: BuildbotRest, buildid: number): Promise<BuildFacts> {
  const build = await rest.buildWithProperties(buildid, PROPERTIES);
  const props = build?.properties ?? {};
  const text = (name: string): string | undefined => {
    const value = props[name]?.[0];
    // got_revision is a dict per codebase on multi-codebase builds: not one revision then.
    return typeof value === 'string' && value.trim() !== '' ? value.trim().slice(0, 200) : undefined;
  };
  return {
    worker: text('workername'),
    branch: text('branch'),
    revision: text('got_revision') ?? text('revision'),
  };
}
