import { type Db, inTransaction, type Schema } from './db.js';

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

/** A row of `builds`, as the schema has it. */
type BuildRow = Schema['builds'];

/** Rows per multi-row INSERT: well under SQLite's 32,766 bound parameters (8 per build). */
const PAGE = 500;

/** Builders and their finished builds, in the store. */
export class BuildStore {
  constructor(private readonly db: Db) {}

  /** Records a finished build; false when it was already known (so each build is processed once). */
  async addBuild(build: BuildRecord): Promise<boolean> {
    const result = await this.db
      .insertInto('builds')
      .values(toBuildRow(build))
      .onConflict((oc) => oc.doNothing())
      .executeTakeFirst();
    return Number(result.numInsertedOrUpdatedRows ?? 0) === 1;
  }

  /**
   * Records many finished builds with multi-row inserts; returns those that were new (each build
   * is processed once).
   */
  async addBuilds(builds: readonly BuildRecord[]): Promise<BuildRecord[]> {
    const added: BuildRecord[] = [];
    for (let i = 0; i < builds.length; i += PAGE) {
      const page = builds.slice(i, i + PAGE);
      const rows = await this.db
        .insertInto('builds')
        .values(page.map(toBuildRow))
        .onConflict((oc) => oc.doNothing())
        .returning(['master', 'buildid'])
        .execute();
      const fresh = new Set(rows.map((r) => `${r.master}\0${r.buildid}`));
      added.push(...page.filter((b) => fresh.has(`${b.master}\0${b.buildid}`)));
    }
    return added;
  }

  async hasBuild(master: string, buildid: number): Promise<boolean> {
    const row = await this.db
      .selectFrom('builds')
      .select('buildid')
      .where('master', '=', master)
      .where('buildid', '=', buildid)
      .executeTakeFirst();
    return row !== undefined;
  }

  /** A builder's most recent builds, newest first. */
  async recentBuilds(master: string, builderid: number, limit: number): Promise<BuildRecord[]> {
    const rows = await this.db
      .selectFrom('builds')
      .selectAll()
      .where('master', '=', master)
      .where('builderid', '=', builderid)
      .orderBy('number', 'desc')
      .limit(limit)
      .execute();
    return rows.map(fromBuildRow);
  }

  /** Every builder's most recent builds (at most `limit` each) on a master, newest first: one query. */
  async recentBuildsByBuilder(master: string, limit: number): Promise<Map<number, BuildRecord[]>> {
    const rows = await this.db
      .selectFrom((eb) =>
        eb
          .selectFrom('builds')
          .selectAll()
          .select((e) =>
            e.fn
              .agg<number>('row_number')
              .over((o) => o.partitionBy('builderid').orderBy('number', 'desc'))
              .as('rank'),
          )
          .where('master', '=', master)
          .as('ranked'),
      )
      .selectAll()
      .where('rank', '<=', limit)
      .orderBy('builderid')
      .orderBy('number', 'desc')
      .execute();
    const out = new Map<number, BuildRecord[]>();
    for (const row of rows) {
      const list = out.get(row.builderid) ?? [];
      list.push(fromBuildRow(row));
      out.set(row.builderid, list);
    }
    return out;
  }

  /** Replaces the master's builder list: builders missing from `builders` are kept but marked inactive. */
  async replaceBuilders(master: string, builders: readonly BuilderRecord[]): Promise<void> {
    await inTransaction(this.db, async (tx) => {
      await tx.updateTable('builders').set({ active: 0 }).where('master', '=', master).execute();
      // One row per builder (the last one given wins): an upsert may not touch a row twice.
      const unique = [...new Map(builders.map((b) => [b.builderid, b])).values()];
      for (let i = 0; i < unique.length; i += PAGE) {
        const page = unique.slice(i, i + PAGE);
        await tx
          .insertInto('builders')
          .values(
            page.map((b) => ({
              master,
              builderid: b.builderid,
              name: b.name,
              tags: JSON.stringify(b.tags),
              description: b.description,
              active: b.active ? 1 : 0,
            })),
          )
          .onConflict((oc) =>
            oc.columns(['master', 'builderid']).doUpdateSet((eb) => ({
              name: eb.ref('excluded.name'),
              tags: eb.ref('excluded.tags'),
              description: eb.ref('excluded.description'),
              active: eb.ref('excluded.active'),
            })),
          )
          .execute();
      }
    });
  }

  async builders(master: string): Promise<BuilderRecord[]> {
    const rows = await this.db.selectFrom('builders').selectAll().where('master', '=', master).execute();
    return rows.map((row) => ({
      master: row.master,
      builderid: row.builderid,
      name: row.name,
      tags: JSON.parse(row.tags) as string[],
      description: row.description,
      active: row.active === 1,
    }));
  }
}

function toBuildRow(build: BuildRecord): BuildRow {
  return {
    master: build.master,
    buildid: build.buildid,
    builderid: build.builderid,
    number: build.number,
    results: build.results,
    state_string: build.stateString,
    started_at: build.startedAt,
    complete_at: build.completeAt,
  };
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
