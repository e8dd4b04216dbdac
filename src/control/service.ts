import type { Logger } from 'pino';
import type { BuildbotControl, ForceField, ForceScheduler } from '../buildbot/control.js';
import { ControlError } from '../buildbot/control.js';
import type { BuildbotRest } from '../buildbot/rest.js';
import { buildRequestPageUrl } from '../buildbot/urls.js';
import type { MasterConfig } from '../config/schema.js';
import { BbwatchError, errorMessage, UserError } from '../errors.js';
import { sanitizeText } from '../messages/safe-text.js';
import type { BuilderStatus, FleetView } from '../state/fleet.js';
import { resolveBuilders, trailingBuildNumber } from '../state/lookup.js';
import type { ControlStore } from '../store/control.js';
import { checkBranch, isRevision, resolveRepository } from './refs.js';

/** Who asks, and where the answers go. */
export interface Requester {
  identity: string | undefined;
  name: string;
  platform: string;
  room: string;
}

export interface ForceRequest {
  /** The builder or group as typed, and what follows it. */
  words: readonly string[];
  reason?: string | undefined;
  yes: boolean;
}

export type ControlOutcome =
  | {
      kind: 'started';
      master: string;
      builders: string[];
      /** Links to the build requests on the master's UI. */
      requests: string[];
      repository?: string | undefined;
      branch?: string | undefined;
    }
  | { kind: 'confirm'; master: string; builders: string[]; seconds: number }
  | { kind: 'stopped'; master: string; builds: Array<{ builder: string; number: number }> };

/** What commands may ask of the control service. */
export interface ControlView {
  force(who: Requester, request: ForceRequest): Promise<ControlOutcome>;
  /** Runs the request waiting for this requester's confirmation. */
  confirm(who: Requester): Promise<ControlOutcome>;
  stop(who: Requester, words: readonly string[], reason: string | undefined): Promise<ControlOutcome>;
  rebuild(who: Requester, words: readonly string[]): Promise<ControlOutcome>;
}

interface MasterControl {
  config: MasterConfig;
  control: BuildbotControl;
  rest: BuildbotRest;
}

const CONFIRM_MS = 60_000;

/**
 * Force, stop and rebuild, safely: resolves what to build from the bot's own state and the
 * master's force schedulers (never guessed), keeps repositories inside the configured realm,
 * asks before starting many builders, limits each identity's rate, writes every attempt to the
 * audit table and the log, and registers follow-ups so the requester hears when builds start
 * and finish.
 */
export class ControlService implements ControlView {
  private readonly pending = new Map<string, { request: ForceRequest; expires: number }>();

  constructor(
    private readonly opts: {
      masters: ReadonlyMap<string, MasterControl>;
      fleet: FleetView;
      store: ControlStore;
      log: Logger;
      /** Follow-ups were registered for new build requests on this master. */
      onRequested?: (master: string) => void;
      now?: () => number;
    },
  ) {}

  private get now(): number {
    return (this.opts.now ?? Date.now)();
  }

  async force(who: Requester, request: ForceRequest): Promise<ControlOutcome> {
    return this.audited(
      who,
      'force',
      [...request.words, ...(request.reason ? ['--reason', request.reason] : [])],
      async (note) => {
        const plan = this.plan(request.words);
        note.master = plan.master.config.name;
        const repository =
          plan.repository !== undefined
            ? resolveRepository(
                plan.repository,
                plan.master.config.force.repositoryBase,
                plan.master.config.force.repositoryPattern,
              )
            : undefined;
        const ref =
          plan.branch !== undefined
            ? isRevision(plan.branch)
              ? plan.branch
              : checkBranch(plan.branch)
            : undefined;
        const names = plan.builders.map((b) => b.name);
        if (names.length > plan.master.config.force.confirmAbove && !request.yes) {
          this.pending.set(this.key(who), {
            request: { ...request, yes: true },
            expires: this.now + CONFIRM_MS,
          });
          note.outcome = 'confirm-asked';
          return {
            kind: 'confirm',
            master: plan.master.config.name,
            builders: names,
            seconds: CONFIRM_MS / 1000,
          };
        }
        await this.checkRate(who, plan.master.config);
        const schedulers = await plan.master.control.forceSchedulers();
        const scheduler = chooseScheduler(schedulers, names, repository !== undefined);
        const params = forceParams(scheduler, names, repository, ref, this.reason(who, request.reason));
        note.outcome = 'failed';
        const result = await plan.master.control.force(scheduler.name, params);
        note.outcome = 'started';
        note.detail = `scheduler ${scheduler.name}, buildset ${result.bsid}`;
        return await this.started(who, plan.master, names, result.brids, repository, ref);
      },
    );
  }

  async confirm(who: Requester): Promise<ControlOutcome> {
    const waiting = this.pending.get(this.key(who));
    this.pending.delete(this.key(who));
    if (!waiting || waiting.expires < this.now)
      throw new UserError('Nothing is waiting for your confirmation (it lasts a minute).');
    return this.force(who, waiting.request);
  }

  async stop(who: Requester, words: readonly string[], reason: string | undefined): Promise<ControlOutcome> {
    return this.audited(who, 'stop', words, async (note) => {
      const { builder, number } = this.builderAndNumber(words, false);
      const master = this.master(builder.master);
      note.master = builder.master;
      await this.checkRate(who, master.config);
      const running = await master.rest.runningBuilds(builder.builderid, number);
      if (running.length === 0) {
        throw new UserError(
          number !== undefined
            ? `${builder.name} #${number} is not running.`
            : `${builder.name} has no running build.`,
        );
      }
      note.outcome = 'failed';
      for (const build of running) await master.control.stop(build.buildid, this.reason(who, reason));
      note.outcome = 'stopped';
      note.detail = running.map((b) => `#${b.number}`).join(' ');
      return {
        kind: 'stopped',
        master: builder.master,
        builds: running.map((b) => ({ builder: builder.name, number: b.number })),
      };
    });
  }

  async rebuild(who: Requester, words: readonly string[]): Promise<ControlOutcome> {
    return this.audited(who, 'rebuild', words, async (note) => {
      const { builder, number } = this.builderAndNumber(words, true);
      const master = this.master(builder.master);
      note.master = builder.master;
      await this.checkRate(who, master.config);
      // builderAndNumber(words, true) has refused a missing number already; this narrows the type.
      if (number === undefined) throw new UserError('Which build number?');
      const build = await master.rest.build(builder.builderid, number).catch(() => undefined);
      if (!build) throw new UserError(`${builder.name} has no build #${number}.`);
      if (!build.complete)
        throw new UserError(`${builder.name} #${number} is still running: stop it first, or wait.`);
      note.outcome = 'failed';
      const result = await master.control.rebuild(build.buildid);
      note.outcome = 'started';
      note.detail = `rebuild of #${number}, buildset ${result.bsid}`;
      return await this.started(who, master, [builder.name], result.brids, undefined, undefined);
    });
  }

  /** Runs one control action and writes its audit row (and log line) whatever happens. */
  private async audited(
    who: Requester,
    command: string,
    args: readonly string[],
    action: (note: { master?: string; outcome: string; detail?: string }) => Promise<ControlOutcome>,
  ): Promise<ControlOutcome> {
    const note: { master?: string; outcome: string; detail?: string } = { outcome: 'refused' };
    try {
      return await action(note);
    } catch (err) {
      note.detail = errorMessage(err);
      if (!(err instanceof BbwatchError)) note.outcome = 'failed';
      throw err;
    } finally {
      await this.opts.store.audit(
        {
          platform: who.platform,
          room: who.room,
          identity: who.identity,
          name: who.name,
          command,
          args,
          ...note,
        },
        this.now,
      );
      this.opts.log.info(
        {
          audit: true,
          command,
          args,
          identity: who.identity,
          room: who.room,
          master: note.master,
          outcome: note.outcome,
          detail: note.detail,
        },
        `control: ${command} ${note.outcome}`,
      );
    }
  }

  private async started(
    who: Requester,
    master: MasterControl,
    builders: string[],
    brids: Record<string, number>,
    repository: string | undefined,
    branch: string | undefined,
  ): Promise<ControlOutcome> {
    for (const brid of Object.values(brids)) {
      await this.opts.store.addFollowUp(
        { master: master.config.name, brid, room: who.room, requester: who.name, identity: who.identity },
        this.now,
      );
    }
    this.opts.onRequested?.(master.config.name);
    return {
      kind: 'started',
      master: master.config.name,
      builders,
      requests: Object.values(brids).map((brid) => buildRequestPageUrl(master.config.url, brid)),
      repository,
      branch,
    };
  }

  private async checkRate(who: Requester, config: MasterConfig): Promise<void> {
    if (!who.identity) return;
    const { count, per } = config.force.rateLimit;
    if ((await this.opts.store.sentSince(who.identity, this.now - per)) >= count) {
      throw new UserError(
        `Slow down: at most ${count} force, stop or rebuild requests per ${Math.round(per / 60_000)} min.`,
      );
    }
  }

  private reason(who: Requester, reason: string | undefined): string {
    const base = `bbwatch: requested by ${who.identity ?? who.name} on ${who.platform} (${who.room})`;
    return sanitizeText(reason ? `${base}: ${reason}` : base).slice(0, 300);
  }

  private key(who: Requester): string {
    return `${who.identity ?? who.name}\u0000${who.room}`;
  }

  private master(name: string): MasterControl {
    const m = this.opts.masters.get(name);
    if (!m) throw new UserError(`No master named ${name}.`);
    return m;
  }

  /** `<builder-group|builder> [<repository> <branch>]` → the builders, on one master. */
  private plan(words: readonly string[]): {
    master: MasterControl;
    builders: BuilderStatus[];
    repository?: string;
    branch?: string;
  } {
    if (words.length === 0) throw new UserError('Which builder or group?');
    const whole = this.targets(words.join(' '));
    if (whole.length > 0) return { master: this.oneMaster(whole), builders: whole };
    if (words.length >= 3) {
      const target = this.targets(words.slice(0, -2).join(' '));
      if (target.length > 0) {
        return {
          master: this.oneMaster(target),
          builders: target,
          repository: words.at(-2) as string,
          branch: words.at(-1) as string,
        };
      }
    }
    throw new UserError(
      `No builder or group called '${words.join(' ').slice(0, 60)}' (a builder name, a tag, or a name suffix).`,
    );
  }

  /** A builder's exact name, or a group: a tag, or a name suffix (`custom` → `... custom`). */
  private targets(text: string): BuilderStatus[] {
    return resolveBuilders(this.opts.fleet.builders(), text, 'group').builders;
  }

  private oneMaster(builders: BuilderStatus[]): MasterControl {
    const masters = new Set(builders.map((b) => b.master));
    if (masters.size > 1)
      throw new UserError(`That spans ${masters.size} masters: write <master>:<builder or group>.`);
    return this.master(builders[0]?.master as string);
  }

  private builderAndNumber(
    words: readonly string[],
    needNumber: boolean,
  ): { builder: BuilderStatus; number: number | undefined } {
    const { words: args, number } = trailingBuildNumber(words);
    if (needNumber && number === undefined) throw new UserError('Which build number?');
    const found = resolveBuilders(this.opts.fleet.builders(), args.join(' '), 'none').builders;
    if (found.length !== 1)
      throw new UserError(`No builder named '${args.join(' ').slice(0, 60)}' (give its exact name).`);
    return { builder: found[0] as BuilderStatus, number };
  }
}

/** The force scheduler that covers every target and, when a repository is given, takes one. */
export function chooseScheduler(
  schedulers: readonly ForceScheduler[],
  builders: readonly string[],
  withRepository: boolean,
): ForceScheduler {
  const covering = schedulers.filter(
    (s) => s.enabled !== false && builders.every((b) => s.builder_names.includes(b)),
  );
  const fitting = withRepository
    ? covering.filter((s) => takes(s, 'repository') && (takes(s, 'branch') || takes(s, 'revision')))
    : covering;
  const chosen = fitting[0];
  if (chosen) return chosen;
  if (covering.length > 0)
    throw new UserError(
      'The force scheduler for those builders takes no repository: force them at their own branch.',
    );
  throw new UserError(
    `No force scheduler on the master covers ${builders.length === 1 ? builders[0] : 'all of those builders'}.`,
  );
}

/** The force parameters: ours where the scheduler takes them, its defaults elsewhere. */
export function forceParams(
  scheduler: ForceScheduler,
  builders: readonly string[],
  repository: string | undefined,
  ref: string | undefined,
  reason: string,
): Record<string, unknown> {
  const params: Record<string, unknown> = { builderNames: [...builders] };
  const missing: string[] = [];
  for (const field of flatten(scheduler.all_fields)) {
    if (field.type === 'fixed') continue;
    if (field.fullName === 'repository' && repository !== undefined) params.repository = repository;
    else if (field.fullName === 'revision' && ref !== undefined && isRevision(ref)) params.revision = ref;
    else if (
      field.fullName === 'branch' &&
      ref !== undefined &&
      !(isRevision(ref) && takes(scheduler, 'revision'))
    )
      params.branch = ref;
    else if (field.fullName === 'reason') params.reason = reason;
    else if (
      field.required &&
      (field.default === undefined || field.default === '' || field.default === null)
    )
      missing.push(field.fullName ?? field.name);
  }
  if (missing.length > 0)
    throw new ControlError(`The force scheduler needs ${missing.join(', ')}, which the bot cannot fill in.`);
  return params;
}

function takes(scheduler: ForceScheduler, name: string): boolean {
  return flatten(scheduler.all_fields).some((f) => f.fullName === name && f.type !== 'fixed');
}

function flatten(fields: readonly ForceField[]): ForceField[] {
  return fields.flatMap((f) => (f.type === 'nested' && f.fields ? flatten(f.fields) : [f]));
}
