import pino, { type DestinationStream, type Logger } from 'pino';
import { type LogFormat, LogOutput } from './log-output.js';
import { levelNumber, prettyLine } from './log-pretty.js';

export type { Logger };

export { colourWanted, defaultLogFormat, LOG_FORMATS, type LogFormat, LogOutput } from './log-output.js';

export interface LogOptions {
  /** Default `json`. */
  format?: LogFormat;
  /** Default: stderr, never diverted. */
  output?: LogOutput;
  /** `pretty`: ANSI colours (default off). */
  colour?: boolean;
  /**
   * `pretty`: entries below this level are not printed, whatever the logger's level becomes (a
   * SIGHUP sets it from the config's log_level): a terminal shows warnings and above unless
   * `--log-level` asked for more.
   */
  floor?: string;
}

/**
 * Structured log lines on stderr (stdout belongs to the console adapter). Every value that came
 * from an environment variable in the config is masked wherever it would appear.
 */
export function createLogger(level: string, secrets: readonly string[] = [], opts: LogOptions = {}): Logger {
  // Read at each line: a reloaded config may add secrets to the same array.
  const scrub = (value: unknown): unknown => {
    const masked = secrets.filter((s) => s.length >= 3);
    if (masked.length === 0) return value;
    if (typeof value === 'string')
      return masked.reduce((text: string, s) => text.split(s).join('[secret]'), value);
    if (Array.isArray(value)) return value.map(scrub);
    if (value !== null && typeof value === 'object' && !(value instanceof Error)) {
      return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, scrub(v)]));
    }
    if (value instanceof Error)
      return scrub({ type: value.name, message: value.message, stack: value.stack });
    return value;
  };
  return pino(
    {
      name: 'bbwatch',
      level,
      base: { pid: process.pid },
      redact: {
        paths: ['*.password', '*.token', '*.cookie', 'headers.authorization', 'headers.cookie'],
        censor: '[secret]',
      },
      hooks: {
        logMethod(args, method) {
          method.apply(this, args.map(scrub) as Parameters<typeof method>);
        },
      },
    },
    destination(opts),
  );
}

function destination(opts: LogOptions): DestinationStream {
  const format = opts.format ?? 'json';
  const output = opts.output;
  if (format === 'json' && !output) return pino.destination({ fd: 2, sync: true });
  const out = output ?? new LogOutput(2);
  out.attach(() => pino.destination({ fd: out.fd, sync: true }));
  if (format === 'json') return { write: (line) => out.write(line) };
  const pretty = {
    colour: opts.colour ?? false,
    ...(opts.floor !== undefined ? { floor: levelNumber(opts.floor) ?? 0 } : {}),
  };
  return {
    write(line) {
      const text = prettyLine(line, pretty);
      if (text) out.write(text);
    },
  };
}
