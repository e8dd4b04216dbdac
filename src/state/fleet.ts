import { isVerdict } from '../buildbot/results.js';
import type { BuildbotBuild, BuildbotBuilder } from '../buildbot/types.js';
import { buildersViewUrl, buildPageUrl, builderPageUrl } from '../buildbot/urls.js';
import type { BuildOrigin } from '../bus.js';
import type { NotifyEvent } from '../config/schema.js';
import { type Tone, toneOf } from '../messages/message.js';
import type { BuilderRecord, BuildRecord, BuildStore } from '../store/builds.js';
import { kindFromState } from '../logs/failure-kind.js';
import {
  decideEvent,
  GREEN_OR_ORANGE,
  previousVerdict,
  RED,
  type Route,
  streakStart,
} from './transitions.js';

/** A builder changing colour: what the notifier announces. */
export interface Transition {
  master: string;
  event: NotifyEvent;
  builder: BuilderRecord;
  build: BuildRecord;
  /** The last verdict before this build (the green build before a red one, and so on). */
  previous: BuildRecord | undefined;
  /** When the colour that ended began: the first green build before a failure, the first red before a recovery. */
  streak: { first: BuildRecord; complete: boolean } | undefined;
  /** The builds after the last good one, this one included (newest first): whose changes broke it. */
  sinceLastGood: BuildRecord[];
  origin: BuildOrigin;
  /** For `newfailure`: the failing tests the previous red build did not have. */
  newFailures?: string[];
  /**
   * `infra`: a red (or the recovery from one) whose failure is not a test's (a compile, a
   * checkout; or, found in its log, a kill, a full disk, a lost worker): it goes to the
   * destinations of the `infra` event instead of `failure`'s (or `recovery`'s). The message is
   * the same.
   */
  route?: Route;
}

/** What a finished build does to the fleet: its record, and the colour change it makes. */
export interface Decision {
  record: BuildRecord;
  transition: Transition | undefined;
}

/** What the bot knows of one builder, as commands see it. */
export interface BuilderStatus {
  master: string;
  masterUrl: string;
  builderid: number;
  name: string;
  tags: string[];
  /** The colour of its last completed verdict; neutral when it has none yet. */
  colour: Tone;
  last: BuildRecord | undefined;
  /** When it turned red (for red builders). */
  redStreak: { first: BuildRecord; complete: boolean } | undefined;
  /** Recent completed builds, newest first. */
  recent: BuildRecord[];
}

/** Read-only questions about the fleet: all a command may ask, answered without the master. */
export interface FleetView {
  masters(): Array<{ name: string; url: string }>;
  builders(): BuilderStatus[];
  buildUrl(master: string, builderid: number, number: number): string;
  builderUrl(master: string, builderid: number): string;
  /** The master's builders view, filtered to builders with every one of `tags`. */
  buildersViewUrl(masterUrl: string, tags: readonly string[]): string;
}

interface MasterState {
  url: string;
  history: number;
  /** The step that runs the tests (the master's `logs.step`): a red build of another step may be infra. */
  testStep: string;
  builders: Map<number, BuilderRecord>;
  /** builderid → recent builds, newest first, at most `history`. */
  builds: Map<number, BuildRecord[]>;
}

/** Every builder's recent history, in memory for answers and in SQLite for restarts. */
export class Fleet implements FleetView {
  private readonly state = new Map<string, MasterState>();

  private constructor(private readonly store: BuildStore) {}

  /** The fleet as the store remembers it: each master's builders and their recent builds. */
  static async load(
    store: BuildStore,
    masters: ReadonlyArray<{ name: string; url: string; history: number; logs?: { step: string } }>,
  ): Promise<Fleet> {
    const fleet = new Fleet(store);
    for (const m of masters) {
      const builders = new Map((await store.builders(m.name)).map((b) => [b.builderid, b]));
      const recent = await store.recentBuildsByBuilder(m.name, m.history);
      const builds = new Map<number, BuildRecord[]>();
      for (const id of builders.keys()) builds.set(id, recent.get(id) ?? []);
      fleet.state.set(m.name, {
        url: m.url,
        history: m.history,
        testStep: m.logs?.step ?? 'test',
        builders,
        builds,
      });
    }
    return fleet;
  }

  /** Replaces a master's builder list (builders that disappeared stay in history, inactive). */
  async setBuilders(master: string, builders: readonly BuildbotBuilder[]): Promise<void> {
    const s = this.master(master);
    const records: BuilderRecord[] = builders.map((b) => ({
      master,
      builderid: b.builderid,
      name: b.name,
      tags: b.tags ?? [],
      description: b.description ?? null,
      active: b.masterids === undefined || b.masterids.length > 0,
    }));
    await this.store.replaceBuilders(master, records);
    const unknown = records.some((r) => !s.builds.has(r.builderid));
    const recent = unknown ? await this.store.recentBuildsByBuilder(master, s.history) : undefined;
    for (const b of s.builders.values()) b.active = false;
    for (const r of records) {
      s.builders.set(r.builderid, r);
      if (!s.builds.has(r.builderid)) s.builds.set(r.builderid, recent?.get(r.builderid) ?? []);
    }
  }

  hasBuilder(master: string, builderid: number): boolean {
    return this.master(master).builders.has(builderid);
  }

  knowsBuild(master: string, buildid: number): Promise<boolean> {
    return this.store.hasBuild(master, buildid);
  }

  /** The record of a finished build, as the store keeps it. */
  toRecord(master: string, build: BuildbotBuild): BuildRecord {
    return {
      master,
      buildid: build.buildid,
      builderid: build.builderid,
      number: build.number,
      results: build.results,
      stateString: build.state_string ?? '',
      startedAt: build.started_at ?? null,
      completeAt: build.complete_at ?? null,
    };
  }

  /**
   * What a finished build (not seen before) does to the fleet: its record, and the transition it
   * makes (if any) before any age or origin filtering. Decided on memory, which it does not change.
   */
  decide(master: string, build: BuildbotBuild, origin: BuildOrigin): Decision {
    const record = this.toRecord(master, build);
    return { record, transition: this.transitionOf(master, record, origin) };
  }

  /**
   * The transition `record` makes on its builder's builds before it, as the fleet holds them:
   * undefined when it makes none, or when a newer build of the builder is known (it says nothing
   * about the builder's colour now). Pure on memory: the log analysis asks it again of a recorded
   * build (src/logs/analyzer.ts).
   */
  transitionOf(master: string, record: BuildRecord, origin: BuildOrigin): Transition | undefined {
    const s = this.master(master);
    const list = s.builds.get(record.builderid) ?? [];
    const newer = list.some((b) => b.number > record.number);
    const previous = list.filter((b) => b.number < record.number);
    const builder = s.builders.get(record.builderid);
    if (!builder || newer) return undefined;
    const decided = decideEvent(record, previous, (b) => this.infraByState(b, s.testStep));
    if (!decided) return undefined;
    const { event, route } = decided;
    const colour = event === 'recovery' ? RED : GREEN_OR_ORANGE;
    const lastGoodIndex = previous.findIndex((b) => GREEN_OR_ORANGE.has(b.results));
    return {
      master,
      event,
      builder,
      build: record,
      // A failure after reds that were all infra: its changes run from the last good build.
      previous:
        event === 'failure'
          ? (previous.find((b) => GREEN_OR_ORANGE.has(b.results)) ?? previousVerdict(previous))
          : previousVerdict(previous),
      streak: event === 'exception' ? undefined : streakStart(previous, colour),
      sinceLastGood: [record, ...(lastGoodIndex === -1 ? previous : previous.slice(0, lastGoodIndex))],
      origin,
      ...(route ? { route } : {}),
    };
  }

  /** Whether a red build's state string says it failed for something other than a test (no request). */
  private infraByState(build: BuildRecord, testStep: string): boolean {
    return kindFromState(build.stateString, testStep) !== undefined;
  }

  /** Adds a decided build to the builder's recent history in memory; returns how to take it back. */
  apply({ record }: Decision): () => void {
    const s = this.master(record.master);
    const list = s.builds.get(record.builderid);
    const merged = [
      ...(list ?? []).filter((b) => b.number > record.number),
      record,
      ...(list ?? []).filter((b) => b.number < record.number),
    ].slice(0, s.history);
    s.builds.set(record.builderid, merged);
    return () => {
      if (list) s.builds.set(record.builderid, list);
      else s.builds.delete(record.builderid);
    };
  }

  /**
   * Records a finished build once (its own write): undefined for a build seen before; otherwise
   * what it does. The bot's tracker writes builds with their effects instead (state/tracker.ts).
   */
  async record(master: string, build: BuildbotBuild, origin: BuildOrigin): Promise<Decision | undefined> {
    const decision = this.decide(master, build, origin);
    if (!(await this.store.addBuild(decision.record))) return undefined;
    this.apply(decision);
    return decision;
  }

  masters(): Array<{ name: string; url: string }> {
    return [...this.state.entries()].map(([name, s]) => ({ name, url: s.url }));
  }

  builders(): BuilderStatus[] {
    const out: BuilderStatus[] = [];
    for (const [master, s] of this.state) {
      for (const b of s.builders.values()) {
        if (!b.active) continue;
        const recent = s.builds.get(b.builderid) ?? [];
        const last = recent.find((r) => isVerdict(r.results));
        const colour: Tone = last ? toneOf(last.results) : 'neutral';
        out.push({
          master,
          masterUrl: s.url,
          builderid: b.builderid,
          name: b.name,
          tags: b.tags,
          colour,
          last,
          redStreak: colour === 'failure' ? streakStart(recent, RED) : undefined,
          recent,
        });
      }
    }
    return out.sort((a, b) => a.name.localeCompare(b.name) || a.master.localeCompare(b.master));
  }

  buildUrl(master: string, builderid: number, number: number): string {
    return buildPageUrl(this.master(master).url, builderid, number);
  }

  buildersViewUrl(masterUrl: string, tags: readonly string[]): string {
    return buildersViewUrl(masterUrl, tags);
  }

  builderUrl(master: string, builderid: number): string {
    return builderPageUrl(this.master(master).url, builderid);
  }

  builder(master: string, builderid: number): BuilderRecord | undefined {
    return this.state.get(master)?.builders.get(builderid);
  }

  /** A builder's recent builds, newest first. */
  recent(master: string, builderid: number): BuildRecord[] {
    return this.state.get(master)?.builds.get(builderid) ?? [];
  }

  private master(name: string): MasterState {
    const s = this.state.get(name);
    if (!s) throw new Error(`unknown master ${name}`);
    return s;
  }
}
