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

  audit(entry: AuditEntry, now = Date.now()): void {
    this.db
      .prepare(
        `INSERT INTO audit (at, platform, room, identity, name, command, args, master, outcome, detail)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(
        now,
        entry.platform,
        entry.room,
        entry.identity ?? null,
        entry.name,
        entry.command,
        JSON.stringify(entry.args).slice(0, 2000),
        entry.master ?? null,
        entry.outcome,
        entry.detail?.slice(0, 1000) ?? null,
      );
  }

  /** Requests an identity sent to masters since `sinceMs` (what the rate limit counts). */
  sentSince(identity: string, sinceMs: number): number {
    return (
      this.db
        .prepare<[string, number], { n: number }>(
          `SELECT COUNT(*) AS n FROM audit WHERE identity = ? AND at >= ? AND outcome IN ('started', 'stopped', 'failed')`,
        )
        .get(identity, sinceMs)?.n ?? 0
    );
  }

  auditTrail(limit = 50): Array<AuditEntry & { at: number }> {
    return this.db
      .prepare<
        [number],
        {
          at: number;
          platform: string;
          room: string;
          identity: string | null;
          name: string;
          command: string;
          args: string;
          master: string | null;
          outcome: string;
          detail: string | null;
        }
      >('SELECT * FROM audit ORDER BY id DESC LIMIT ?')
      .all(limit)
      .map((r) => ({
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

  addFollowUp(
    f: { master: string; brid: number; room: string; requester: string; identity: string | undefined },
    now = Date.now(),
  ): void {
    this.db
      .prepare(
        'INSERT INTO followups (master, brid, room, requester, identity, created_at) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING',
      )
      .run(f.master, f.brid, f.room, f.requester, f.identity ?? null, now);
  }

  /** Follow-ups whose build has not finished (or not started) yet. */
  open(): FollowUp[] {
    return this.db
      .prepare<
        [],
        {
          id: number;
          master: string;
          brid: number;
          room: string;
          requester: string;
          identity: string | null;
          buildid: number | null;
          started_at: number | null;
        }
      >('SELECT * FROM followups WHERE finished_at IS NULL ORDER BY id')
      .all()
      .map((r) => ({
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

  markStarted(id: number, buildid: number, now = Date.now()): void {
    this.db.prepare('UPDATE followups SET buildid = ?, started_at = ? WHERE id = ?').run(buildid, now, id);
  }

  /** The build was retried (RETRY): the follow-up waits for the request's next build to start. */
  markRetried(id: number, buildid: number): void {
    this.db.prepare('UPDATE followups SET buildid = ?, started_at = NULL WHERE id = ?').run(buildid, id);
  }

  markFinished(id: number, buildid: number, now = Date.now()): void {
    this.db.prepare('UPDATE followups SET buildid = ?, finished_at = ? WHERE id = ?').run(buildid, now, id);
  }

  /** Gives up on follow-ups older than `beforeMs` (a request cancelled on the master never starts). */
  expire(beforeMs: number, now = Date.now()): number {
    return this.db
      .prepare('UPDATE followups SET finished_at = ? WHERE finished_at IS NULL AND created_at < ?')
      .run(now, beforeMs).changes;
  }
}
