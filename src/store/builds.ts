import type { Db } from './db.js';

/** A builder as bbwatch remembers it. */
export interface BuilderRecord {
  master: string;
  builderid: number;
  name: string;
  tags: string[];
  description: string | null;
  /** false once the master no longer serves it (kept for history). */
  active: boolean;
}

/** A finished build as bbwatch remembers it. Times are epoch seconds, as Buildbot gives them. */
export interface BuildRecord {
  master: string;
  buildid: number;
  builderid: number;
  number: number;
  results: number | null;
  stateString: string;
  startedAt: number | null;
  completeAt: number | null;
}

interface BuildRow {
  master: string;
  buildid: number;
  builderid: number;
  number: number;
  results: number | null;
  state_string: string;
  started_at: number | null;
  complete_at: number | null;
}

interface BuilderRow {
  master: string;
  builderid: number;
  name: string;
  tags: string;
  description: string | null;
  active: number;
}

/** Builders and their finished builds, in the store. */
export class BuildStore {
  private readonly insertBuild;
  private readonly hasBuildStmt;
  private readonly recentStmt;
  private readonly upsertBuilder;
  private readonly deactivate;
  private readonly allBuildersStmt;

  constructor(private readonly db: Db) {
    this.insertBuild = db.prepare<BuildRow>(
      `INSERT INTO builds (master, buildid, builderid, number, results, state_string, started_at, complete_at)
       VALUES (@master, @buildid, @builderid, @number, @results, @state_string, @started_at, @complete_at) ON CONFLICT DO NOTHING`,
    );
    this.hasBuildStmt = db.prepare<[string, number], { one: number }>(
      'SELECT 1 AS one FROM builds WHERE master = ? AND buildid = ?',
    );
    this.recentStmt = db.prepare<[string, number, number], BuildRow>(
      `SELECT * FROM builds WHERE master = ? AND builderid = ? ORDER BY number DESC LIMIT ?`,
    );
    this.upsertBuilder = db.prepare<BuilderRow>(
      `INSERT INTO builders (master, builderid, name, tags, description, active)
       VALUES (@master, @builderid, @name, @tags, @description, @active)
       ON CONFLICT (master, builderid) DO UPDATE SET
         name = excluded.name, tags = excluded.tags, description = excluded.description, active = excluded.active`,
    );
    this.deactivate = db.prepare<[string]>('UPDATE builders SET active = 0 WHERE master = ?');
    this.allBuildersStmt = db.prepare<[string], BuilderRow>('SELECT * FROM builders WHERE master = ?');
  }

  /** Records a finished build; false when it was already known (so each build is processed once). */
  addBuild(build: BuildRecord): boolean {
    return (
      this.insertBuild.run({
        master: build.master,
        buildid: build.buildid,
        builderid: build.builderid,
        number: build.number,
        results: build.results,
        state_string: build.stateString,
        started_at: build.startedAt,
        complete_at: build.completeAt,
      }).changes === 1
    );
  }

  hasBuild(master: string, buildid: number): boolean {
    return this.hasBuildStmt.get(master, buildid) !== undefined;
  }

  /** A builder's most recent builds, newest first. */
  recentBuilds(master: string, builderid: number, limit: number): BuildRecord[] {
    return this.recentStmt.all(master, builderid, limit).map(fromBuildRow);
  }

  /** Replaces the master's builder list: builders missing from `builders` are kept but marked inactive. */
  replaceBuilders(master: string, builders: readonly BuilderRecord[]): void {
    this.db.transaction(() => {
      this.deactivate.run(master);
      for (const b of builders) {
        this.upsertBuilder.run({
          master,
          builderid: b.builderid,
          name: b.name,
          tags: JSON.stringify(b.tags),
          description: b.description,
          active: b.active ? 1 : 0,
        });
      }
    })();
  }

  builders(master: string): BuilderRecord[] {
    return this.allBuildersStmt.all(master).map((row) => ({
      master: row.master,
      builderid: row.builderid,
      name: row.name,
      tags: JSON.parse(row.tags) as string[],
      description: row.description,
      active: row.active === 1,
    }));
  }
}

function fromBuildRow(row: BuildRow): BuildRecord {
  return {
    master: row.master,
    buildid: row.buildid,
    builderid: row.builderid,
    number: row.number,
    results: row.results,
    stateString: row.state_string,
    startedAt: row.started_at,
    completeAt: row.complete_at,
  };
}
