import type { Transition } from '../state/fleet.js';
import type { GroupReason } from '../triage/grouping.js';
import type { Selectable, Updateable } from 'kysely';
import type { Db, Schema } from './db.js';

export type { GroupReason };

/** One builder in a group: enough to name it and link its build without asking anyone. */
export interface GroupMember {
  master: string;
  buildid: number;
  builder: string;
  number: number;
  branch: string | undefined;
  url: string;
}

/**
 * A failure announced at one destination: the red build announced first (its lead) and the
 * builders that joined it since, with the platform's reference to the message to edit.
 */
export interface AnnounceGroup {
  id: number;
  destination: string;
  lead: Transition;
  /** When the lead build finished (epoch ms): the window runs from then. */
  openedAt: number;
  /** The lead's reasons; undefined until its analysis was read. */
  keys: string[] | undefined;
  /** The reason the group's message names (set when a builder first joins). */
  reason: GroupReason | undefined;
  /** The newest change of the lead build: "since abc1234". */
  revision: string | undefined;
  /** The platform's reference to the message announcing the lead (undefined where none is given). */
  ref: string | undefined;
  /** The lead first, then the builders that joined, in order. */
  members: GroupMember[];
  /** The builds that brought its builders back to green, once named in a recovery line. */
  recovered: GroupMember[];
  /** The likely culprit's lines, once a joining builder found one (src/tracker/culprits.ts). */
  culprit: string[] | undefined;
}

/** A stored group's row, read. */
function groupOf(r: Selectable<Schema['announce_groups']>): AnnounceGroup {
  return {
    id: r.id,
    destination: r.destination,
    lead: JSON.parse(r.lead) as Transition,
    openedAt: r.opened_at,
    keys: r.reason_keys === null ? undefined : (JSON.parse(r.reason_keys) as string[]),
    reason: r.reason === null ? undefined : (JSON.parse(r.reason) as GroupReason),
    revision: r.revision ?? undefined,
    ref: r.ref ?? undefined,
    members: JSON.parse(r.members) as GroupMember[],
    recovered: r.recovered === null ? [] : (JSON.parse(r.recovered) as GroupMember[]),
    culprit: r.culprit === null ? undefined : (JSON.parse(r.culprit) as string[]),
  };
}

/** Groups older than this are forgotten (the window is at most a day). */
const KEEP_MS = 2 * 86_400_000;

/** The groups announced per destination, so that a restart edits the same message. */
export class GroupStore {
  constructor(private readonly db: Db) {}

  /** The groups at `destination` whose lead finished at `since` or later, oldest first. */
  async openAt(destination: string, since: number): Promise<AnnounceGroup[]> {
    const rows = await this.db
      .selectFrom('announce_groups')
      .selectAll()
      .where('destination', '=', destination)
      .where('opened_at', '>=', since)
      .orderBy('opened_at')
      .orderBy('id')
      .execute();
    return rows.map(groupOf);
  }

  /** One group, as it is now; undefined once dropped. */
  async get(id: number): Promise<AnnounceGroup | undefined> {
    const row = await this.db
      .selectFrom('announce_groups')
      .selectAll()
      .where('id', '=', id)
      .executeTakeFirst();
    return row ? groupOf(row) : undefined;
  }

  /**
   * The newest group kept at `destination` that names `builder` of `master`: the failure a
   * builder's recovery ends (a red builder cannot join another group before it is green again).
   */
  async latestWith(
    destination: string,
    master: string,
    builder: string,
    now: number,
  ): Promise<AnnounceGroup | undefined> {
    const groups = await this.openAt(destination, now - KEEP_MS);
    return groups.findLast((g) => g.members.some((m) => m.master === master && m.builder === builder));
  }

  /**
   * Records the group a red announcement opens (once per destination and build: sent again after a
   * crash, the reference is the new one); groups past keeping are dropped.
   */
  async open(
    g: { destination: string; lead: Transition; openedAt: number; revision: string | undefined },
    lead: GroupMember,
    ref: string | undefined,
    now: number,
  ): Promise<void> {
    await this.db
      .insertInto('announce_groups')
      .values({
        destination: g.destination,
        lead_master: g.lead.master,
        lead_buildid: g.lead.build.buildid,
        opened_at: g.openedAt,
        lead: JSON.stringify(g.lead),
        reason_keys: null,
        reason: null,
        revision: g.revision ?? null,
        ref: ref ?? null,
        members: JSON.stringify([lead]),
        recovered: null,
        culprit: null,
      })
      .onConflict((oc) =>
        oc
          .columns(['destination', 'lead_master', 'lead_buildid'])
          .doUpdateSet((eb) => ({ ref: eb.ref('excluded.ref') })),
      )
      .execute();
    await this.db
      .deleteFrom('announce_groups')
      .where('opened_at', '<', now - KEEP_MS)
      .execute();
  }

  /** The lead's reasons, once its analysis was read. */
  async setKeys(id: number, keys: readonly string[]): Promise<void> {
    await this.update(id, { reason_keys: JSON.stringify(keys) });
  }

  /** Builders joined the group (after its message was edited, or its also-on line sent). */
  async join(
    id: number,
    members: readonly GroupMember[],
    reason: GroupReason,
    revision: string | undefined,
    culprit: readonly string[] | undefined,
  ): Promise<void> {
    await this.update(id, {
      members: JSON.stringify(members),
      reason: JSON.stringify(reason),
      revision: revision ?? null,
      culprit: culprit ? JSON.stringify(culprit) : null,
    });
  }

  /** The likely culprit was named (in a line of its own, after the group's update). */
  async setCulprit(id: number, culprit: readonly string[]): Promise<void> {
    await this.update(id, { culprit: JSON.stringify(culprit) });
  }

  /** Builders of the group were named green again (after their recovery line went out). */
  async recover(id: number, recovered: readonly GroupMember[]): Promise<void> {
    await this.update(id, { recovered: JSON.stringify(recovered) });
  }

  /** Sets columns of one group. */
  private async update(id: number, values: Updateable<Schema['announce_groups']>): Promise<void> {
    await this.db.updateTable('announce_groups').set(values).where('id', '=', id).execute();
  }
}
