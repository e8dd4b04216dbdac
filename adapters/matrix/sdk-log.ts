/**
 * matrix-js-sdk logs through `loglevel` to the console: stdout (which belongs to the console
 * adapter) for info and debug, and plain text on stderr (where bbwatch writes JSON lines). This
 * sends all of it to the bot's logger instead, at debug and trace (the SDK's "errors" are mostly
 * passing network trouble, which the adapter reports itself at info and warn), secrets masked.
 */
import type { Logger as SdkLogger } from 'matrix-js-sdk/lib/logger.js';
import { logger as sdkRootLogger } from 'matrix-js-sdk/lib/logger.js';
import type { AdapterServices } from '../../src/chat/adapter.js';

type Log = AdapterServices['log'];
type Method = 'trace' | 'debug' | 'info' | 'warn' | 'error';

const LEVEL: Record<Method, 'trace' | 'debug'> = {
  trace: 'trace',
  debug: 'trace',
  info: 'trace',
  warn: 'debug',
  error: 'debug',
};

/** One log line from the SDK's arguments (format strings, errors, objects), secrets masked, bounded. */
export function sdkLine(args: readonly unknown[], secrets: readonly string[]): string {
  const text = args
    .map((a) => {
      if (typeof a === 'string') return a;
      if (a instanceof Error) return `${a.name}: ${a.message}`;
      try {
        return JSON.stringify(a) ?? String(a);
      } catch {
        return String(a);
      }
    })
    .join(' ');
  const masked = secrets.filter((s) => s.length >= 3).reduce((t, s) => t.split(s).join('[secret]'), text);
  return masked.length > 2000 ? `${masked.slice(0, 2000)}…` : masked;
}

function forward(log: Log, method: Method, args: readonly unknown[], secrets: () => readonly string[]): void {
  const level = LEVEL[method];
  if (!log.isLevelEnabled(level)) return;
  log[level](sdkLine(args, secrets()));
}

/** A logger for `createClient({ logger })`: what the client itself logs (HTTP requests and more). */
export function clientLogger(log: Log, secrets: () => readonly string[]): SdkLogger {
  const make = (child: Log): SdkLogger => ({
    trace: (...args: unknown[]) => forward(child, 'trace', args, secrets),
    debug: (...args: unknown[]) => forward(child, 'debug', args, secrets),
    info: (...args: unknown[]) => forward(child, 'info', args, secrets),
    warn: (...args: unknown[]) => forward(child, 'warn', args, secrets),
    error: (...args: unknown[]) => forward(child, 'error', args, secrets),
    getChild: (namespace: string) => make(child.child({ sdk: namespace })),
  });
  return make(log.child({ component: 'matrix-js-sdk' }));
}

/**
 * The SDK's module-wide logger (used by its sync loop, among others), which no client option
 * reaches. It is a loglevel logger; replacing its method factory is loglevel's own plugin API.
 */
interface LoglevelLogger {
  methodFactory: (method: string, level: number, name: string | symbol) => (...args: unknown[]) => void;
  rebuild(): void;
}

export function routeSdkLogs(log: Log, secrets: () => readonly string[]): void {
  const root = sdkRootLogger as unknown as LoglevelLogger;
  const child = log.child({ component: 'matrix-js-sdk' });
  root.methodFactory = (method) => {
    const known: Method = ['trace', 'debug', 'info', 'warn', 'error'].includes(method)
      ? (method as Method)
      : 'debug';
    return (...args: unknown[]) => forward(child, known, args, secrets);
  };
  root.rebuild();
}
