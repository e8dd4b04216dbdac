import pino, { type DestinationStream, type Logger } from 'pino';
import { levelNumber, prettyLine } from './log-pretty.js';

export type { Logger };

/** `json`: pino's JSON lines, for machines and files. `pretty`: one readable line per entry. */
export type LogFormat = 'json' | 'pretty';
export const LOG_FORMATS: readonly LogFormat[] = ['json', 'pretty'];

/** The format when none is asked for: readable on a terminal, JSON otherwise (files, journald, tests). */
export function defaultLogFormat(stderrIsTty: boolean): LogFormat {
  return stderrIsTty ? 'pretty' : 'json';
}

/** Whether ANSI colours are wanted on a terminal: not when NO_COLOR is set (https://no-color.org). */
export function colourWanted(isTty: boolean, env: NodeJS.ProcessEnv = process.env): boolean {
  return isTty && !env.NO_COLOR;
}

/**
 * Where log lines go: a file descriptor (stderr), or, while something owns the terminal, through
 * it. The interactive console diverts them so that a log line never tears the command being typed:
 * it prints the line above its prompt and draws the prompt again.
 */
export class LogOutput {
  private readonly fd: DestinationStream;
  private via: ((text: string) => void) | undefined;

  constructor(fd = 2) {
    this.fd = pino.destination({ fd, sync: true });
  }

  /** Sends lines through `via` from now on; undefined: back to the file descriptor. */
  divert(via: ((text: string) => void) | undefined): void {
    this.via = via;
  }

  write(text: string): void {
    if (this.via) this.via(text);
    else this.fd.write(text);
  }
}

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
