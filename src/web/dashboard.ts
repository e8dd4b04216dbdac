import type { IncomingMessage, ServerResponse } from 'node:http';
import { fragment, layout, notFoundPage } from './layout.js';
import type { LiveUpdates } from './live.js';
import { linksFrom, type DashboardSources, type Page } from './page.js';
import { builderPage } from './pages/builder.js';
import { fleetFilter, fleetPage } from './pages/fleet.js';
import { flakyPage } from './pages/flaky.js';
import { DEFAULT_DAYS, daysParam, testPage } from './pages/test.js';
import { LIVE_SCRIPT } from './script.js';

/**
 * Scripts only from the listener itself (/live.js), styles inline, images as data: only, and
 * connections (the event stream, fragment fetches) back to the listener.
 */
export const CSP =
  "default-src 'none'; script-src 'self'; style-src 'unsafe-inline'; img-src data:; connect-src 'self'; " +
  "base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

const SECURITY_HEADERS = {
  'content-security-policy': CSP,
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
  'cache-control': 'no-store',
};

export interface Routed {
  status: number;
  page: Page;
}

/** The page a GET of `pathname?query` shows (404 for names with no history). */
export async function route(
  src: DashboardSources,
  segments: readonly string[],
  query: URLSearchParams,
): Promise<Routed> {
  const links = linksFrom(rootOf(segments));
  const [first, ...rest] = segments;
  if (segments.length === 1 && first === '')
    return { status: 200, page: await fleetPage(src, links, fleetFilter(query)) };
  if (segments.length === 1 && first === 'flaky') return { status: 200, page: await flakyPage(src, links) };
  if (first === 'tests' && rest.length === 1 && rest[0]) {
    const page = await testPage(src, links, rest[0], daysParam(query, DEFAULT_DAYS));
    return page
      ? { status: 200, page }
      : { status: 404, page: notFoundPage(`No test named '${rest[0]}' has any stored history.`) };
  }
  if (first === 'builders' && rest.length === 2 && rest[0] && rest[1]) {
    const page = await builderPage(src, links, rest[0], rest[1], daysParam(query, DEFAULT_DAYS));
    return page
      ? { status: 200, page }
      : { status: 404, page: notFoundPage(`No builder '${rest[1]}' on master '${rest[0]}'.`) };
  }
  return { status: 404, page: notFoundPage('Nothing here: try the fleet or the flaky tests.') };
}

/** `../` per level below the root, so that links work behind a proxy that adds a path prefix. */
export function rootOf(segments: readonly string[]): string {
  return segments.length <= 1 ? './' : '../'.repeat(segments.length - 1);
}

/** The dashboard's request handler for the ops listener: true when it answered. */
export function dashboardHandler(
  src: DashboardSources,
  live: LiveUpdates,
): (req: IncomingMessage, res: ServerResponse) => boolean {
  return (req, res) => {
    const url = new URL(req.url ?? '/', 'http://dashboard.invalid');
    const head = req.method === 'HEAD';
    if (url.pathname === '/events') {
      if (head) res.writeHead(200, { 'content-type': 'text/event-stream' }).end();
      else live.attach(req, res);
      return true;
    }
    if (url.pathname === '/live.js') {
      res.writeHead(200, { 'content-type': 'text/javascript; charset=utf-8', ...SECURITY_HEADERS });
      res.end(head ? undefined : LIVE_SCRIPT);
      return true;
    }
    let segments: string[];
    try {
      segments = url.pathname.slice(1).split('/').map(decodeURIComponent);
    } catch {
      segments = ['\u0000'];
    }
    route(src, segments, url.searchParams).then(
      ({ status, page }) => {
        const body = (url.searchParams.has('fragment') ? fragment(page) : layout(page, rootOf(segments)))
          .value;
        res.writeHead(status, { 'content-type': 'text/html; charset=utf-8', ...SECURITY_HEADERS });
        res.end(head ? undefined : body);
      },
      // The store is away (or stalled past its timeout): say so rather than hang.
      () => {
        if (res.headersSent) return void res.destroy();
        res.writeHead(503, { 'content-type': 'text/plain; charset=utf-8', ...SECURITY_HEADERS });
        res.end(head ? undefined : 'The history is not available right now: try again in a moment.\n');
      },
    );
    return true;
  };
}
