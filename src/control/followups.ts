import type { Logger } from 'pino';
import { type Bus, Events } from '../bus.js';
import type { BuildbotRest } from '../buildbot/rest.js';
import { Results } from '../buildbot/results.js';
import type { BuildbotBuild } from '../buildbot/types.js';
import { errorMessage } from '../errors.js';
import { causeHeadline } from '../logs/failure-kind.js';
import type { TestHistoryView } from '../logs/history.js';
import { type Line, type Message, TONE_COLOUR, toneOf } from '../messages/message.js';
import type { Fleet } from '../state/fleet.js';
import type { ControlStore, FollowUp } from '../store/control.js';

/**
 * Starts come from the master's live stream; REST is asked only for what the stream may not have
 * said: at once for new requests (a build can start before the request is registered) and after
 * each (re)connect, then every so often as a safety net. A master followed without a stream
 * (polling, or down) is asked more often.
 */
const SAFETY_POLL_MS = 30_000;
const UNSTREAMED_POLL_MS = 3000;
/** A request that has not started after a day was cancelled or forgotten on the master. */
const EXPIRE_MS = 86_400_000;

type Send = (
  master: string,
  buildid: number,
  event: 'force-started' | 'force-finished',
  destination: string,
  message: Message,
) => Promise<void>;

/**
 * Tells whoever forced (or rebuilt) a build, where they asked, when it starts and when it finishes
 * (with the failing tests of a red build), following the master's build events. The follow-ups
 * live in the store, so a restart keeps them.
 */
export class FollowUps {
  private timer: NodeJS.Timeout | undefined;
  private dueAt = 0;
  private polling = false;
  private stopped = false;
  /** Masters whose live stream is open: their starts arrive as events. */
  private readonly streaming = new Set<string>();

  constructor(
    private readonly opts: {
      store: ControlStore;
      fleet: Fleet;
      tests: TestHistoryView;
      rests: ReadonlyMap<string, BuildbotRest>;
      bus: Bus;
      log: Logger;
      send: Send;
    },
  ) {
    opts.bus.on(Events.BuildStarted, ({ master, build }) =>
      this.guard('follow-up start', async () => {
        for (const f of await this.opts.store.open()) {
          if (f.master === master && f.brid === build.buildrequestid && f.startedAt === null)
            await this.started(f, build);
        }
      }),
    );
    opts.bus.on(Events.BuildFinished, ({ master, build }) =>
      this.guard('follow-up end', async () => {
        for (const f of await this.opts.store.open()) {
          if (f.master === master && f.brid === build.buildrequestid) await this.finished(f, build);
        }
      }),
    );
    opts.bus.on(Events.WatcherState, ({ master, status }) => {
      if (status !== 'streaming') {
        this.streaming.delete(master);
        this.schedule(); // sooner, if requests on this master wait for their start
        return;
      }
      this.streaming.add(master);
      // Starts while no stream was open were not heard.
      void this.check(master);
    });
  }

  start(): void {
    this.schedule();
  }

  /** Runs a listener's work; a failure (a store that is away) is logged, never thrown at the bus. */
  private guard(what: string, work: () => Promise<void>): void {
    work().catch((err: unknown) => this.opts.log.warn({ err: errorMessage(err) }, `${what} failed`));
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
  }

  /**
   * Requests were just registered on `master`: their builds may have started before that (and
   * their start event gone by), so the master is asked once now.
   */
  requested(master: string): void {
    void this.check(master).finally(() => this.schedule());
  }

  /** The safety net: asks the master about every request whose start was not heard. */
  async poll(): Promise<void> {
    if (this.polling) return;
    this.polling = true;
    try {
      await this.opts.store.expire(Date.now() - EXPIRE_MS);
      await this.check(undefined);
    } catch (err) {
      this.opts.log.warn({ err: errorMessage(err) }, 'follow-up poll failed');
    } finally {
      this.polling = false;
      this.schedule();
    }
  }

  /** Asks REST for the builds of requests (of one master, or all) whose start was not heard. */
  private async check(master: string | undefined): Promise<void> {
    for (const f of await this.opts.store.open()) {
      if (f.startedAt !== null || this.stopped || (master !== undefined && f.master !== master)) continue;
      const rest = this.opts.rests.get(f.master);
      if (!rest) continue;
      try {
        const builds = await rest.buildsOfRequest(f.brid);
        // The newest: a request Buildbot retried (a lost worker) has a build per attempt.
        const build = builds.reduce<BuildbotBuild | undefined>(
          (a, b) => (a === undefined || b.number > a.number ? b : a),
          undefined,
        );
        // An event may have told the start (or the end) while the master was being asked; a
        // retried build was told already.
        const now = (await this.opts.store.open()).find((o) => o.id === f.id);
        if (!build || !now || now.startedAt !== null || build.buildid === now.buildid) continue;
        if (build.complete) {
          await this.opts.store.markStarted(f.id, build.buildid);
          await this.finished(f, build);
        } else await this.started(f, build);
      } catch (err) {
        this.opts.log.warn(
          { master: f.master, brid: f.brid, err: errorMessage(err) },
          'follow-up check failed',
        );
      }
    }
  }

  /** Sets the next safety poll, unless one is running or already due sooner. */
  private schedule(): void {
    if (this.stopped || this.polling) return;
    this.opts.store.open().then(
      (open) => this.arm(open.some((f) => f.startedAt === null && !this.streaming.has(f.master))),
      // The store is away: look again soon.
      () => this.arm(true),
    );
  }

  private arm(unheard: boolean): void {
    if (this.stopped || this.polling) return;
    const delay = unheard ? UNSTREAMED_POLL_MS : SAFETY_POLL_MS;
    if (this.timer && this.dueAt <= Date.now() + delay) return;
    clearTimeout(this.timer);
    this.dueAt = Date.now() + delay;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.poll();
    }, delay);
    this.timer.unref();
  }

  /** Records the start and tells the requester (once: the outbox keys the message by build). */
  private async started(f: FollowUp, build: BuildbotBuild): Promise<void> {
    await this.opts.store.markStarted(f.id, build.buildid);
    await this.opts.send(f.master, build.buildid, 'force-started', f.room, this.startedMessage(f, build));
  }

  private async finished(f: FollowUp, build: BuildbotBuild): Promise<void> {
    // RETRY: Buildbot runs the request again, and the requester hears how that build ends too.
    const retried = build.results === Results.RETRY;
    if (retried) await this.opts.store.markRetried(f.id, build.buildid);
    else await this.opts.store.markFinished(f.id, build.buildid);
    const builder = this.opts.fleet.builder(f.master, build.builderid);
    const name = builder?.name ?? `builder ${build.builderid}`;
    const tone = toneOf(build.results);
    const lines: Line[] = [];
    if (
      build.results === Results.WARNINGS ||
      build.results === Results.FAILURE ||
      build.results === Results.EXCEPTION
    ) {
      // The bot may not have recorded the build yet: say how it ended.
      const stored = await this.opts.tests
        .analysis(f.master, { ...build, stateString: build.state_string }, false)
        .catch(() => undefined);
      const analysis = stored?.analysis;
      // A failure that is not a test failure says what broke ("failed compile: ...").
      const said = stored?.cause ? causeHeadline(stored.cause) : undefined;
      if (said) lines.push([said]);
      if (analysis && analysis.failed.length > 0)
        lines.push([`Failed: ${analysis.failed.slice(0, 8).join(', ')}`]);
      if (analysis && analysis.flaky.length > 0)
        lines.push([`Flaky (passed on re-run): ${analysis.flaky.slice(0, 8).join(', ')}`]);
    }
    if (retried) lines.push(['Buildbot runs the request again; its build follows.']);
    await this.opts.send(f.master, build.buildid, 'force-finished', f.room, {
      kind: 'reply',
      tone,
      title: [
        `${f.requester}: `,
        { text: name, bold: true },
        ` #${build.number} finished: `,
        { text: TONE_COLOUR[tone] || String(build.results), tone, bold: true },
        build.state_string ? ` (${build.state_string})` : '',
      ],
      lines,
      link: {
        label: `build #${build.number}`,
        url: this.opts.fleet.buildUrl(f.master, build.builderid, build.number),
      },
      mention: { name: f.requester, identity: f.identity ?? undefined },
    });
  }

  private startedMessage(f: FollowUp, build: BuildbotBuild): Message {
    const builder = this.opts.fleet.builder(f.master, build.builderid);
    return {
      kind: 'reply',
      tone: 'building',
      title: [
        `${f.requester}: `,
        { text: builder?.name ?? `builder ${build.builderid}`, bold: true },
        ` #${build.number} started`,
      ],
      lines: [],
      link: {
        label: `build #${build.number}`,
        url: this.opts.fleet.buildUrl(f.master, build.builderid, build.number),
      },
      mention: { name: f.requester, identity: f.identity ?? undefined },
    };
  }
}
