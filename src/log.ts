import pino, { type Logger } from 'pino';

export type { Logger };

/**
 * Structured log lines on stderr (stdout belongs to the console adapter). Every value that came
 * from an environment variable in the config is masked wherever it would appear.
 */
export function createLogger(level: string, secrets: readonly string[] = [], destination = 2): Logger {
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
    pino.destination({ fd: destination, sync: true }),
  );
}
