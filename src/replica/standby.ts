import { createServer, type Server } from 'node:http';
import type { Logger } from 'pino';
import { errorMessage } from '../errors.js';
import type { Leadership } from './leader.js';

export interface StandbyConfig {
  postgres?: string | undefined;
  http?: { listen: string; port: number } | undefined;
}

/**
 * With PostgreSQL (`postgres:` configured), stands by until this process leads, then returns (and
 * the caller starts the bot); without, returns at once. Meanwhile a configured http: listener
 * answers /healthz with 503 `standby` and /metrics with `bbwatch_leader 0`; it is closed before
 * the bot opens its own.
 *
 * Losing the lock later calls `onLost` at once: another process may already be leading, so the
 * caller stops sending at once, stops the bot, and calls this again to stand by (src/cli.ts).
 */
export async function awaitLeadership(
  config: StandbyConfig,
  log: Logger,
  onLost: (reason: string) => void,
): Promise<Leadership | undefined> {
  if (!config.postgres) return undefined;
  // pg is loaded only for PostgreSQL users.
  const { lead } = await import('./leader.js');
  const http = config.http ? await standbyHttp(config.http, log).catch(() => undefined) : undefined;
  try {
    return await lead({ url: config.postgres, log, onLost });
  } finally {
    await new Promise<void>((resolve) => {
      if (!http) return resolve();
      http.close(() => resolve());
      http.closeAllConnections();
    });
  }
}

function standbyHttp(options: { listen: string; port: number }, log: Logger): Promise<Server> {
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (path === '/healthz') {
      res.writeHead(503, { 'content-type': 'application/json', 'cache-control': 'no-store' });
      res.end(
        `${JSON.stringify({ status: 'standby', role: 'standby', problems: ['standing by: another process leads'] })}\n`,
      );
    } else if (path === '/metrics') {
      res.writeHead(200, {
        'content-type': 'text/plain; version=0.0.4; charset=utf-8',
        'cache-control': 'no-store',
      });
      res.end(
        '# HELP bbwatch_leader 1 while this process leads (holds the PostgreSQL leader lock).\n# TYPE bbwatch_leader gauge\nbbwatch_leader 0\n',
      );
    } else {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('standing by: try /healthz or /metrics\n');
    }
  });
  return new Promise((resolve, reject) => {
    server.once('error', (err) => {
      log.warn({ err: errorMessage(err) }, 'standby http not listening');
      reject(err);
    });
    server.listen(options.port, options.listen, () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : options.port;
      log.info({ listen: options.listen, port }, 'standby http listening');
      resolve(server);
    });
  });
}
