/**
 * The doctor's check of the HTTP listener: the configured address and port can be bound now. A
 * port already taken by a running bbwatch (its /healthz answers) is only a warning.
 */
import { createServer } from 'node:net';
import { type CheckOutcome, fail, ok, warn } from '../chat/probe.js';

export async function checkListen(
  listen: string,
  port: number,
  key: (path: string) => string,
  signal: AbortSignal,
): Promise<CheckOutcome> {
  const error = await bind(listen, port);
  if (!error) return ok(port === 0 ? 'a free port can be bound (http.port is 0)' : 'free, can be bound');
  const where = `${listen.includes(':') ? `[${listen}]` : listen}:${port}`;
  switch (error.code) {
    case 'EADDRINUSE':
      if (await isBbwatch(where, signal)) {
        return warn(
          'in use by a running bbwatch (its /healthz answered)',
          `fine if that is this bot; a second one needs another ${key('http.port')}`,
        );
      }
      return fail(
        'in use by another program',
        `choose another ${key('http.port')}, or stop what listens on ${where} (ss -ltnp shows it)`,
      );
    case 'EACCES':
      return fail(
        'permission denied',
        `ports below 1024 need privileges: set ${key('http.port')} above 1024 and put a reverse proxy in front`,
      );
    case 'EADDRNOTAVAIL':
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return fail(
        `${listen} is not an address of this machine`,
        `set ${key('http.listen')} to one of this machine's addresses (127.0.0.1, ::1, or 0.0.0.0 for all)`,
      );
    default:
      return fail(error.message, `check ${key('http.listen')} and ${key('http.port')}`);
  }
}

function bind(host: string, port: number): Promise<NodeJS.ErrnoException | undefined> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', (err: NodeJS.ErrnoException) => resolve(err));
    server.listen({ host, port, exclusive: true }, () => server.close(() => resolve(undefined)));
  });
}

/** Whether what listens there answers /healthz as bbwatch does. */
async function isBbwatch(where: string, signal: AbortSignal): Promise<boolean> {
  try {
    const res = await fetch(`http://${where}/healthz`, {
      signal: AbortSignal.any([signal, AbortSignal.timeout(3_000)]),
    });
    const body = (await res.json()) as { status?: unknown };
    return body.status === 'ok' || body.status === 'unavailable';
  } catch {
    return false;
  }
}
