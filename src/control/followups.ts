import type { Logger } from 'pino';
import { type Bus, Events } from '../bus.js';
import type { BuildbotRest } from '../buildbot/rest.js';
import type { BuildbotBuild } from '../buildbot/types.js';
import { errorMessage } from '../errors.js';
import { causeHeadline } from '../logs/failure-kind.js';
import type { TestHistoryView } from '../logs/history.js';
import { type Line, type Message, TONE_COLOUR, toneOf } from '../messages/message.js';
import type { Fleet } from '../state/fleet.js';
import type { ControlStore, FollowUp } from '../store/control.js';

const POLL_MS = 3000;
/** A request that has not started after a day was cancelled or forgotten on the master. */
const EXPIRE_MS = 86_400_000;

type Send = (master: string, buildid: number, event: string, destination: string, message: Message) => void;

/**
 * Tells whoever forced (or rebuilt) a build, where they asked, when it starts and when it finishes
 * (with the failing tests of a red build). The follow-ups live in SQLite, so a restart keeps them.
 */
export class FollowUps {
  private timer: NodeJS.Timeout | undefined;
  private polling = false;
  private stopped = false;

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
    opts.bus.on(Events.BuildFinished, ({ master, build }) => {
      for (const f of this.opts.store.open()) {
        if (f.master === master && f.brid === build.buildrequestid) void this.finished(f, build);
      }
    });
  }

  start(): void {
    this.schedule();
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
  }

  /** Looks for the builds of requests that have not started yet. */
  async poll(): Promise<void> {
    if (this.polling) return;
    this.polling = true;
    try {
      this.opts.store.expire(Date.now() - EXPIRE_MS);
      for (const f of this.opts.store.open()) {
        if (f.startedAt !== null || this.stopped) continue;
        const rest = this.opts.rests.get(f.master);
        if (!rest) continue;
        try {
          const [build] = await rest.list<BuildbotBuild>(`buildrequests/${f.brid}/builds`, 'builds');
          if (!build) continue;
          this.opts.store.markStarted(f.id, build.buildid);
          if (build.complete) await this.finished(f, build);
          else
            this.opts.send(f.master, build.buildid, 'force-started', f.room, this.startedMessage(f, build));
        } catch (err) {
          this.opts.log.warn(
            { master: f.master, brid: f.brid, err: errorMessage(err) },
            'follow-up poll failed',
          );
        }
      }
    } finally {
      this.polling = false;
      this.schedule();
    }
  }

  private schedule(): void {
    if (this.stopped) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.poll(), POLL_MS);
    this.timer.unref();
  }

  private async finished(f: FollowUp, build: BuildbotBuild): Promise<void> {
    this.opts.store.markFinished(f.id, build.buildid);
    const builder = this.opts.fleet.builder(f.master, build.builderid);
    const name = builder?.name ?? `builder ${build.builderid}`;
    const tone = toneOf(build.results);
    const lines: Line[] = [];
    if (build.results === 1 || build.results === 2 || build.results === 4) {
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
    this.opts.send(f.master, build.buildid, 'force-finished', f.room, {
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
