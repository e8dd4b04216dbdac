/**
 * A local stand-in for GitHub's REST API as far as bbwatch uses it: `GET /search/issues` with the
 * qualifiers bbwatch sends (`repo:`, `is:issue`, `in:title`, quoted phrases, bare words), its
 * rate-limit headers and answers (403 with `X-RateLimit-Remaining: 0`, a 403 secondary limit with
 * `Retry-After`, 422 for a query it will not run), and an outage (503, or no answer at all); and
 * what `bbwatch doctor` asks: `GET /rate_limit` (401 for a token it does not know, when `tokens`
 * is set) and `GET /repos/{owner}/{name}` (404 but for the stand-in's repository).
 * The real `@octokit/rest` talks to it unmodified through its `baseUrl`.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface StandInIssue {
  number: number;
  title: string;
  body?: string;
  state: 'open' | 'closed';
  /** ISO date. */
  updated_at: string;
  pull_request?: boolean;
}

export type Mode = 'ok' | 'secondary' | 'down' | 'hang';

export interface GitHubStandIn {
  url: string;
  /** Every search received: its query and whether a token came with it. */
  requests: Array<{ q: string; authorized: boolean }>;
  /** How it answers from now on. */
  mode: Mode;
  /** Searches allowed per window before `X-RateLimit-Remaining: 0` and 403 (default 30). */
  limit: number;
  /** Seconds a secondary limit asks to wait (`Retry-After`). */
  retryAfter: number;
  /** When set, the only tokens accepted: any other gets 401 Bad credentials. */
  tokens: string[] | undefined;
  /** Starts a fresh rate-limit window. */
  resetWindow(): void;
  close(): Promise<void>;
}

export async function startGitHubStandIn(
  repo: string,
  issues: readonly StandInIssue[],
): Promise<GitHubStandIn> {
  let used = 0;
  let reset = Math.floor(Date.now() / 1000) + 60;
  const hanging: ServerResponse[] = [];
  const state: GitHubStandIn = {
    url: '',
    requests: [],
    mode: 'ok',
    limit: 30,
    retryAfter: 30,
    tokens: undefined,
    resetWindow() {
      used = 0;
      reset = Math.floor(Date.now() / 1000) + 60;
    },
    close: () =>
      new Promise((resolve) => {
        for (const res of hanging) res.destroy();
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
  const send = (res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) => {
    res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', ...headers });
    res.end(JSON.stringify(body));
  };
  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://stand-in');
    const auth = /^(?:token|bearer) (\S+)/i.exec(req.headers.authorization ?? '')?.[1];
    const repoPath = /^\/repos\/([^/]+)\/([^/]+)$/.exec(url.pathname);
    const doctorAsks = url.pathname === '/rate_limit' || repoPath !== null;
    if (doctorAsks && state.mode === 'hang') {
      hanging.push(res);
      return;
    }
    if (doctorAsks && state.mode === 'down') {
      send(res, 503, { message: 'Service Unavailable' });
      return;
    }
    if (auth !== undefined && state.tokens !== undefined && !state.tokens.includes(auth)) {
      send(res, 401, { message: 'Bad credentials', documentation_url: 'https://docs.github.com/rest' });
      return;
    }
    if (req.method === 'GET' && url.pathname === '/rate_limit') {
      const search = { limit: state.limit, remaining: Math.max(0, state.limit - used), reset, used };
      const core = auth
        ? { limit: 5000, remaining: 4990, reset, used: 10 }
        : { limit: 60, remaining: 58, reset, used: 2 };
      send(res, 200, { resources: { core, search }, rate: core });
      return;
    }
    if (req.method === 'GET' && repoPath) {
      const asked = `${decodeURIComponent(repoPath[1] ?? '')}/${decodeURIComponent(repoPath[2] ?? '')}`;
      if (asked !== repo) send(res, 404, { message: 'Not Found' });
      else send(res, 200, { full_name: repo, private: false, has_issues: true });
      return;
    }
    if (req.method !== 'GET' || url.pathname !== '/search/issues') {
      send(res, 404, { message: 'Not Found' });
      return;
    }
    const q = url.searchParams.get('q') ?? '';
    state.requests.push({ q, authorized: /^(token|bearer) \S+/i.test(req.headers.authorization ?? '') });
    if (state.mode === 'hang') {
      hanging.push(res);
      return;
    }
    if (state.mode === 'down') {
      send(res, 503, { message: 'Service Unavailable' });
      return;
    }
    if (state.mode === 'secondary') {
      send(
        res,
        403,
        {
          message:
            'You have exceeded a secondary rate limit. Please wait a few minutes before you try again.',
        },
        { 'retry-after': String(state.retryAfter) },
      );
      return;
    }
    const limits = (remaining: number) => ({
      'x-ratelimit-limit': String(state.limit),
      'x-ratelimit-remaining': String(Math.max(0, remaining)),
      'x-ratelimit-reset': String(reset),
      'x-ratelimit-used': String(used),
      'x-ratelimit-resource': 'search',
    });
    if (used >= state.limit) {
      send(res, 403, { message: 'API rate limit exceeded for 127.0.0.1.' }, limits(0));
      return;
    }
    used++;
    if (q.length > 256) {
      send(
        res,
        422,
        { message: 'Validation Failed', errors: [{ message: 'The search is longer than 256 characters.' }] },
        limits(state.limit - used),
      );
      return;
    }
    const parsed = parseQuery(q);
    if (!parsed.issueOnly) {
      send(
        res,
        422,
        { message: "Query must include 'is:issue' or 'is:pull-request'" },
        limits(state.limit - used),
      );
      return;
    }
    const perPage = Math.min(100, Number(url.searchParams.get('per_page') ?? 30) || 30);
    const matched = parsed.repo === repo ? search(issues, parsed) : [];
    send(
      res,
      200,
      {
        total_count: matched.length,
        incomplete_results: false,
        items: matched.slice(0, perPage).map((i) => ({
          number: i.number,
          title: i.title,
          body: i.body ?? null,
          state: i.state,
          updated_at: i.updated_at,
          html_url: `https://github.com/${repo}/issues/${i.number}`,
          ...(i.pull_request ? { pull_request: { url: '' } } : {}),
        })),
      },
      limits(state.limit - used),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  state.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return state;
}

interface Parsed {
  repo: string | undefined;
  issueOnly: boolean;
  titleOnly: boolean;
  terms: string[];
}

function parseQuery(q: string): Parsed {
  const parsed: Parsed = { repo: undefined, issueOnly: false, titleOnly: false, terms: [] };
  for (const m of q.matchAll(/"([^"]*)"|(\S+)/g)) {
    const phrase = m[1];
    const word = m[2];
    if (phrase !== undefined) {
      if (phrase.trim()) parsed.terms.push(phrase.toLowerCase());
    } else if (word?.startsWith('repo:')) parsed.repo = word.slice(5);
    else if (word === 'is:issue') parsed.issueOnly = true;
    else if (word === 'in:title') parsed.titleOnly = true;
    else if (word) parsed.terms.push(word.toLowerCase());
  }
  return parsed;
}

/**
 * Every term must occur (as a word, like GitHub's tokenised search); best match first: terms in
 * the title count more than in the body, then the most recently updated.
 */
function search(issues: readonly StandInIssue[], p: Parsed): StandInIssue[] {
  const scored: Array<{ issue: StandInIssue; score: number }> = [];
  for (const issue of issues) {
    if (issue.pull_request) continue;
    const title = issue.title.toLowerCase();
    const body = p.titleOnly ? '' : (issue.body ?? '').toLowerCase();
    let score = 0;
    let all = true;
    for (const term of p.terms) {
      const re = new RegExp(`(^|[^a-z0-9_])${term.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}($|[^a-z0-9_])`);
      const inTitle = re.test(title);
      const inBody = re.test(body);
      if (!inTitle && !inBody) {
        all = false;
        break;
      }
      score += (inTitle ? 2 : 0) + (inBody ? 1 : 0);
    }
    if (all) scored.push({ issue, score });
  }
  return scored
    .sort((a, b) => b.score - a.score || Date.parse(b.issue.updated_at) - Date.parse(a.issue.updated_at))
    .map((s) => s.issue);
}
