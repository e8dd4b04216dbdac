/**
 * The doctor's checks of one master: it answers (and is Buildbot, with API v2), its live event
 * streams open (WebSocket and SSE, each tried), and, with `auth:`, the bot's login and the force
 * schedulers `!force` would use. The Buildbot side of each lives in src/buildbot/.
 */
import type { Logger } from 'pino';
import type { CheckOutcome } from '../chat/probe.js';
import { fail, ok, warn } from '../chat/probe.js';
import type { MasterConfig } from '../config/schema.js';
import { RequestBudget } from '../buildbot/budget.js';
import { BuildbotControl, type ForceScheduler } from '../buildbot/control.js';
import { reachFailure } from '../buildbot/failure.js';
import { masterIdentity, tryStream } from '../buildbot/probe.js';
import { BuildbotSession } from '../buildbot/session.js';
import { BuildbotRest } from '../buildbot/rest.js';
import { forceParams } from '../control/service.js';
import { errorMessage } from '../errors.js';
import type { CheckRunner } from './runner.js';

export interface MasterCheckContext {
  runner: CheckRunner;
  /** The master's place in `masters:`, for naming keys. */
  index: number;
  key(path: string): string;
  log: Logger;
}

export async function checkMaster(master: MasterConfig, ctx: MasterCheckContext): Promise<void> {
  const { runner } = ctx;
  const section = `master ${master.name}`;
  const at = (k: string) => ctx.key(`masters[${ctx.index}].${k}`);
  const budget = new RequestBudget(master.request_budget.requests, master.request_budget.per);
  const rest = new BuildbotRest({
    baseUrl: master.url,
    budget,
    timeoutMs: master.timeout,
    log: ctx.log,
    maxAttempts: 1,
  });
  // The master's own timeout, and a little for the doctor's bookkeeping.
  const timeoutMs = master.timeout + 2_000;
  let builderNames: string[] = [];

  const reached = await runner.check(
    section,
    `answers at ${master.url}`,
    async (signal) => {
      try {
        const [builders, identity] = await Promise.all([
          rest.builders(signal),
          masterIdentity(master.url, signal),
        ]);
        builderNames = builders.map((b) => b.name);
        const parts = [
          identity.buildbotVersion ? `Buildbot ${identity.buildbotVersion}` : 'Buildbot (version not shown)',
          identity.apiVersions.length > 0 ? `API ${identity.apiVersions.join(', ')}` : 'API v2',
          `${builders.length} builder${builders.length === 1 ? '' : 's'}`,
        ];
        if (identity.apiVersions.length > 0 && !identity.apiVersions.includes('v2')) {
          return fail(
            parts.join(', '),
            "bbwatch speaks Buildbot's data API v2 (Buildbot 0.9 to 4.x): this master has none",
          );
        }
        if (builders.length === 0) {
          return warn(parts.join(', '), `the master has no builders: is ${at('url')} the master you mean?`);
        }
        return ok(parts.join(', '));
      } catch (err) {
        return fail(errorMessage(err), reachFix(err, master, at));
      }
    },
    { timeoutMs, fixOnTimeout: `is the master up? ${at('timeout')} is ${master.timeout / 1000} s` },
  );
  if (reached.status === 'fail') {
    for (const title of ['live events over WebSocket', 'live events over SSE'])
      runner.skip(section, title, 'the master cannot be reached');
    if (master.auth) runner.skip(section, 'login', 'the master cannot be reached');
    return;
  }

  for (const transport of ['ws', 'sse'] as const) {
    const name = transport === 'ws' ? 'WebSocket' : 'SSE';
    await runner.check(
      section,
      `live events over ${name}`,
      async () => {
        try {
          await tryStream(transport, master.url, master.timeout, ctx.log);
        } catch (err) {
          return streamFailure(transport, errorMessage(err), master, at);
        }
        return master.stream === 'poll' || (master.stream !== 'auto' && master.stream !== transport)
          ? ok(`works (not used: stream: ${master.stream})`)
          : ok('subscribed to finished builds');
      },
      { timeoutMs },
    );
  }

  if (!master.auth) {
    runner.skip(section, 'login', `no ${at('auth')}: !force, !stop and !rebuild are off for this master`);
    return;
  }
  const control = new BuildbotControl({
    baseUrl: master.url,
    budget,
    timeoutMs: master.timeout,
    session: new BuildbotSession({
      baseUrl: master.url,
      auth: master.auth,
      budget,
      timeoutMs: master.timeout,
      log: ctx.log,
      masterName: master.name,
    }),
    masterName: master.name,
  });
  const byPassword = 'username' in master.auth;
  const login = await runner.check(
    section,
    byPassword
      ? `login as ${(master.auth as { username: string }).username}`
      : 'login with the session cookie',
    async () => {
      try {
        const user = await control.whoami();
        if (user.anonymous) {
          return byPassword
            ? fail(
                'the master took the login but treats the bot as anonymous',
                `check the master's auth configuration for ${at('auth.username')}`,
              )
            : fail(
                'the master does not know the session cookie',
                `${at('auth.cookie')} is not (or no longer) a session: sessions expire (a week by default); log in to the master in a browser and copy its TWISTED_SESSION cookie again`,
              );
        }
        const who = user.username ?? user.email ?? user.fullName ?? 'a user';
        const groups = user.groups.length > 0 ? `groups: ${user.groups.join(', ')}` : 'no groups reported';
        return ok(`logged in as ${who} (${groups}; the master's authz turns these into roles)`);
      } catch (err) {
        return fail(
          errorMessage(err),
          byPassword
            ? `check ${at('auth.username')} and ${at('auth.password')}`
            : `check ${at('auth.cookie')}: copy the TWISTED_SESSION cookie of a logged-in browser session`,
        );
      }
    },
    { timeoutMs: timeoutMs * 2 },
  );
  if (login.status === 'fail') {
    runner.skip(section, 'force schedulers', 'not logged in');
    return;
  }
  await runner.check(
    section,
    'force schedulers',
    async () => forceCheck(await control.forceSchedulers(), builderNames, master, at),
    { timeoutMs },
  );
}

/** Which builders `!force` could reach, and schedulers it could not use. */
function forceCheck(
  schedulers: readonly ForceScheduler[],
  builders: readonly string[],
  master: MasterConfig,
  at: (k: string) => string,
): CheckOutcome {
  // By name: the master lists them in no fixed order, and the checklist should read the same each run.
  const enabled = schedulers
    .filter((s) => s.enabled !== false)
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  if (enabled.length === 0) {
    return warn(
      schedulers.length === 0 ? 'the master has no force scheduler' : 'every force scheduler is disabled',
      "!force will be refused: add a ForceScheduler covering the builders to force to the master's config",
    );
  }
  const covered = new Set<string>();
  const unusable: string[] = [];
  const described = enabled.map((s) => {
    try {
      forceParams(s, [], undefined, undefined, 'bbwatch doctor');
    } catch (err) {
      unusable.push(`${s.name}: ${errorMessage(err)}`);
    }
    for (const b of s.builder_names) covered.add(b);
    const takesRepository = s.all_fields.some(function has(f): boolean {
      return (f.fullName === 'repository' && f.type !== 'fixed') || (f.fields ?? []).some(has);
    });
    return `${s.name} (${s.builder_names.length} builder${s.builder_names.length === 1 ? '' : 's'}${takesRepository ? ', takes a repository' : ''})`;
  });
  const reach = builders.filter((b) => covered.has(b)).length;
  const detail = `${described.join(', ')}; ${reach} of ${builders.length} builders can be forced`;
  if (unusable.length > 0) {
    return warn(detail, `!force cannot fill in what these need: ${unusable.join('; ')}`);
  }
  if (master.force.repositoryBase && !described.some((d) => d.includes('takes a repository'))) {
    return warn(
      detail,
      `${at('force.repositoryBase')} is set, but no force scheduler takes a repository: !force with a repository will be refused`,
    );
  }
  return ok(detail);
}

function streamFailure(
  transport: 'ws' | 'sse',
  why: string,
  master: MasterConfig,
  at: (k: string) => string,
): CheckOutcome {
  const path = transport === 'ws' ? `${master.url}ws` : `${master.url}sse`;
  const proxy =
    transport === 'ws'
      ? `a proxy in front of the master must pass WebSocket upgrades on ${path}`
      : `a proxy in front of the master must not buffer ${path} (proxy_buffering off)`;
  if (master.stream === transport) {
    return fail(why, `${proxy}; or set ${at('stream')}: auto (or poll)`);
  }
  if (master.stream === 'auto') {
    return warn(
      why,
      transport === 'ws'
        ? `bbwatch falls back to SSE, else to polling every ${master.poll_interval / 1000} s; ${proxy}`
        : `used only when the WebSocket fails; ${proxy}`,
    );
  }
  return warn(why, `not used while ${at('stream')} is ${master.stream}: nothing to do`);
}

function reachFix(err: unknown, master: MasterConfig, at: (k: string) => string): string {
  const failure = reachFailure(err);
  const url = at('url');
  switch (failure.kind) {
    case 'dns':
      return `the host name does not resolve: check ${url} for a typo, and that this machine resolves names (DNS)`;
    case 'refused':
      return `nothing listens there: is the master running, and is ${url} right (host and port)?`;
    case 'timeout':
      return `no answer: is the host up, and does a firewall or proxy let this machine through? (${at('timeout')} is ${master.timeout / 1000} s)`;
    case 'tls':
      return `the master's TLS certificate is not trusted here (${failure.code}): check the host name in ${url}, or give its CA to Node.js with NODE_EXTRA_CA_CERTS`;
    case 'network':
      return `the connection failed (${failure.code}): check ${url} and the network between here and the master`;
    case 'http':
      if (failure.status === 404)
        return `${url} must be the master's base URL, its buildbotURL (e.g. https://buildbot.python.org/all/), under which its REST API lives`;
      if (failure.status === 401 || failure.status === 403)
        return "the master refuses anonymous reads: bbwatch reads the REST API without logging in, so the master's authz must allow reading";
      if (failure.status === 429)
        return `the master (or its proxy) is rate-limiting this machine: lower ${at('request_budget.requests')}, and try again in a minute`;
      return `the master answered HTTP ${failure.status}: see its twistd.log (or the proxy's log) for why`;
    case 'not-buildbot':
      return `${url} answers, but not with Buildbot's API: it must be the master's base URL (its buildbotURL)`;
    default:
      return `check ${url}`;
  }
}
