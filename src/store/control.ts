import type { Db } from './db.js';

export interface AuditEntry {
  platform: string;
  room: string;
  identity: string | undefined;
  name: string;
  command: string;
  args: readonly string[];
  master?: string | undefined;
  /** `started`, `confirm-asked`, `refused`, `failed`, `stopped`... */
  outcome: string;
  detail?: string | undefined;
}

export interface FollowUp {
  id: number;
  master: string;
  brid: number;
  room: string;
  requester: string;
  identity: string | null;
  buildid: number | null;
  startedAt: number | null;
}

/** Who asked the master for what, and the forced builds whose requesters wait to hear back. */
export class ControlStore {
  constructor(private readonly db: Db) {}

  async audit(entry: AuditEntry, now = Date.now()): Promise<void> {
    await this.db
      .insertInto('audit')
      .values({
        at: now,
        platform: entry.platform,
        room: entry.room,
        identity: entry.identity ?? null,
        name: entry.name,
        command: entry.command,
        args: JSON.stringify(entry.args).slice(0, 2000),
        master: entry.master ?? null,
        outcome: entry.outcome,
        detail: entry.detail?.slice(0, 1000) ?? null,
      })
      .execute();
  }

  /** Requests an identity sent to masters since `sinceMs` (what the rate limit counts). */
  async sentSince(identity: string, sinceMs: number): Promise<number> {
    const row = await this.db
      .selectFrom('audit')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('identity', '=', identity)
      .where('at', '>=', sinceMs)
      .where('outcome', 'in', ['started', 'stopped', 'failed'])
      .executeTakeFirst();
    return Number(row?.n ?? 0);
  }

  async auditTrail(limit = 50): Promise<Array<AuditEntry & { at: number }>> {
    const rows = await this.db.selectFrom('audit').selectAll().orderBy('id', 'desc').limit(limit).execute();
    return rows.map((r) => ({
      at: r.at,
      platform: r.platform,
      room: r.room,
      identity: r.identity ?? undefined,
      name: r.name,
      command: r.command,
      args: JSON.parse(r.args) as string[],
      master: r.master ?? undefined,
      outcome: r.outcome,
      detail: r.detail ?? undefined,
    }));
  }

  async addFollowUp(
    f: { master: string; brid: number; room: string; requester: string; identity: string | undefined },
    now = Date.now(),
  ): Promise<void> {
    await this.db
      .insertInto('followups')
      .values({
        master: f.master,
        brid: f.brid,
        room: f.room,
        requester: f.requester,
        identity: f.identity ?? null,
        created_at: now,
      })
      .onConflict((oc) => oc.doNothing())
      .execute();
  }

  /** Follow-ups whose build has not finished (or not started) yet. */
  async open(): Promise<FollowUp[]> {
    const rows = await this.db
      .selectFrom('followups')
      .selectAll()
      .where('finished_at', 'is', null)
      .orderBy('id')
      .execute();
    return rows.map((r) => ({
      id: r.id,
      master: r.master,
      brid: r.brid,
      room: r.room,
      requester: r.requester,
      identity: r.identity,
      buildid: r.buildid,
      startedAt: r.started_at,
    }));
  }

  async markStarted(id: number, buildid: number, now = Date.now()): Promise<void> {
    await this.db.updateTable('followups').set({ buildid, started_at: now }).where('id', '=', id).execute();
  }

  /** The build was retried (RETRY): the follow-up waits for the request's next build to start. */
  async markRetried(id: number, buildid: number): Promise<void> {
    await this.db.updateTable('followups').set({ buildid, started_at: null }).where('id', '=', id).execute();
  }

  async markFinished(id: number, buildid: number, now = Date.now()): Promise<void> {
    await this.db.updateTable('followups').set({ buildid, finished_at: now }).where('id', '=', id).execute();
  }

  /** Gives up on follow-ups older than `beforeMs` (a request cancelled on the master never starts). */
  async expire(beforeMs: number, now = Date.now()): Promise<number> {
    const result = await this.db
      .updateTable('followups')
      .set({ finished_at: now })
      .where('finished_at', 'is', null)
      .where('created_at', '<', beforeMs)
      .executeTakeFirst();
    return Number(result.numUpdatedRows);
  }
}
