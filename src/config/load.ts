import { readFileSync } from 'node:fs';
import { isMap, isScalar, isSeq, LineCounter, parseDocument } from 'yaml';
import type { z } from 'zod';
import { ConfigError } from '../errors.js';
import { DEFAULT_CONFIG_YAML } from './default.js';
import { type ChatConfig, PLATFORMS } from './chat.js';
import { configSchema, type NotifyRule, type ParsedConfig } from './schema.js';

/** The configuration bbwatch runs with: validated, defaults filled in, secrets noted for redaction. */
export interface Config extends Omit<ParsedConfig, 'notify' | 'chat'> {
  chat: Omit<ChatConfig, 'console'> & { console: boolean };
  notify: NotifyRule[];
  /** Values that came from environment variables: never logged, never replied. */
  secrets: string[];
  /** Which environment variables a key's value came from (`chat.irc.sasl.password` → `[IRC_PASSWORD]`). */
  envRefs?: Record<string, string[]>;
  /** Where it came from, for messages: a path or `(built-in default)`. */
  source: string;
}

export function loadConfigFile(path: string, env: NodeJS.ProcessEnv = process.env): Config {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : code;
    throw new ConfigError([`cannot read the file (${why})`], path);
  }
  return parseConfig(text, path, env);
}

export function defaultConfig(env: NodeJS.ProcessEnv = process.env): Config {
  return parseConfig(DEFAULT_CONFIG_YAML, '(built-in default)', env);
}

export function parseConfig(text: string, source: string, env: NodeJS.ProcessEnv = process.env): Config {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length > 0) {
    throw new ConfigError(
      doc.errors.map((e) => {
        const pos = lines.linePos(e.pos[0]);
        return `line ${pos.line}, column ${pos.col}: ${e.message.split('\n')[0]}`;
      }),
      source,
    );
  }
  let raw: unknown;
  try {
    raw = doc.toJS({ maxAliasCount: 100 });
  } catch (err) {
    // An unresolved alias (`*x` with no `&x`), or an alias bomb.
    throw new ConfigError([(err as Error).message.split('\n')[0] ?? 'the YAML cannot be read'], source);
  }
  if (raw === null || raw === undefined) throw new ConfigError(['the file is empty'], source);
  if (typeof raw !== 'object' || Array.isArray(raw)) {
    throw new ConfigError(['the top level must be a mapping of keys (masters:, chat:, notify: ...)'], source);
  }

  const secrets: string[] = [];
  const problems: string[] = [];
  const refs: Record<string, string[]> = {};
  const values = new Map<string, string>();
  const interpolated = interpolate(raw, [], env, { secrets, problems, refs, values });
  if (problems.length > 0) throw new ConfigError(problems, source);

  // A value from the environment may be a secret: a problem shows its reference, never its value.
  const masked = (issues: string[]) => issues.map((issue) => maskValues(issue, values));
  const result = configSchema.safeParse(interpolated);
  if (!result.success) {
    throw new ConfigError(
      masked(result.error.issues.map((issue) => describeIssue(issue, doc, lines))),
      source,
    );
  }
  try {
    return { ...finish(result.data, source, secrets), envRefs: refs };
  } catch (err) {
    if (err instanceof ConfigError) throw new ConfigError(masked([...err.issues]), source);
    throw err;
  }
}

/**
 * Writes every value that came from an environment variable back as its reference (`${NAME}`),
 * longest first so that a value containing another is replaced whole. Values under 3 characters
 * are left: masking them would mangle the message more than it protects.
 */
function maskValues(text: string, values: ReadonlyMap<string, string>): string {
  let out = text;
  for (const [value, name] of [...values].sort((a, b) => b[0].length - a[0].length)) {
    if (value.length >= 3) out = out.split(value).join(`\${${name}}`);
  }
  return out;
}

function finish(parsed: ParsedConfig, source: string, secrets: string[]): Config {
  const otherChat = Object.entries(parsed.chat).some(
    ([key, on]) => key !== 'console' && on !== undefined && on !== false,
  );
  // The console is the default when no chat network is configured.
  const consoleOn = parsed.chat.console ?? !otherChat;
  // Without rules, the console hears every red: a test's (failure) and any other (infra).
  const notify =
    parsed.notify ?? (consoleOn ? [{ to: 'console', events: ['failure' as const, 'infra' as const] }] : []);
  const problems: string[] = [];
  const enabled = new Set<string>(
    Object.entries(parsed.chat)
      .filter(([key, on]) => key !== 'console' && on !== undefined && on !== false)
      .map(([key]) => key),
  );
  if (consoleOn) enabled.add('console');
  notify.forEach((rule, i) => {
    const platform = rule.to === 'console' ? 'console' : rule.to.split(':')[0];
    if (
      !platform ||
      !(PLATFORMS as readonly string[]).includes(platform) ||
      (platform !== 'console' && !rule.to.slice(platform.length + 1))
    ) {
      problems.push(
        `notify[${i}].to: '${rule.to}' is not a destination (write console, or <platform>:<room> for a platform under chat:)`,
      );
    } else if (!enabled.has(platform)) {
      problems.push(`notify[${i}].to: '${rule.to}' needs chat.${platform} to be enabled`);
    }
  });
  parsed.digest.forEach((d, i) => {
    const platform = d.to === 'console' ? 'console' : d.to.split(':')[0];
    if (!platform || !enabled.has(platform)) {
      problems.push(`digest[${i}].to: '${d.to}' is not a destination of an enabled chat platform`);
    }
  });
  if (problems.length > 0) throw new ConfigError(problems, source);
  return { ...parsed, chat: { ...parsed.chat, console: consoleOn }, notify, secrets, source };
}

/** Replaces `${NAME}` in every string with the environment variable; `$${` writes a literal `${`. */
function interpolate(
  value: unknown,
  path: (string | number)[],
  env: NodeJS.ProcessEnv,
  found: {
    secrets: string[];
    problems: string[];
    refs: Record<string, string[]>;
    /** Each value taken from the environment → the variable's name. */
    values: Map<string, string>;
  },
): unknown {
  const { secrets, problems, refs, values } = found;
  if (typeof value === 'string') {
    return value.replace(/\$?\$\{([^}]*)\}/g, (whole, name: string) => {
      if (whole.startsWith('$$')) return whole.slice(1);
      if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) {
        problems.push(`${formatPath(path)}: '\${${name}}' is not a valid environment variable reference`);
        return whole;
      }
      const set = env[name];
      if (set === undefined || set === '') {
        problems.push(`${formatPath(path)}: environment variable ${name} is not set`);
        return whole;
      }
      secrets.push(set);
      values.set(set, name);
      (refs[formatPath(path)] ??= []).push(name);
      return set;
    });
  }
  if (Array.isArray(value)) return value.map((v, i) => interpolate(v, [...path, i], env, found));
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value).map(([k, v]) => [k, interpolate(v, [...path, k], env, found)]),
    );
  }
  return value;
}

export function formatPath(path: readonly PropertyKey[]): string {
  if (path.length === 0) return '(top level)';
  return path
    .map((p, i) => (typeof p === 'number' ? `[${p}]` : i === 0 ? String(p) : `.${String(p)}`))
    .join('');
}

function describeIssue(
  issue: z.core.$ZodIssue,
  doc: ReturnType<typeof parseDocument>,
  lines: LineCounter,
): string {
  const path = issue.path as (string | number)[];
  let message = issue.message;
  if (issue.code === 'unrecognized_keys') {
    const keys = issue.keys;
    const where = formatPath(path);
    const keyPath = path.length === 0 ? keys[0] : `${where}.${keys[0]}`;
    message = `unknown key${keys.length > 1 ? 's' : ''} ${keys.map((k) => `'${k}'`).join(', ')}`;
    return `${keyPath}${locate(doc, lines, [...path, keys[0] ?? ''])}: ${message}`;
  }
  if (issue.code === 'invalid_type' && /received undefined/.test(message)) message = 'is required';
  else message = message.replace(/^Invalid input: /, '').replace(/^Invalid option: /, '');
  return `${formatPath(path)}${locate(doc, lines, path)}: ${message}`;
}

/** ` (line N)` for a path that exists in the YAML document, or nothing. */
function locate(
  doc: ReturnType<typeof parseDocument>,
  lines: LineCounter,
  path: (string | number)[],
): string {
  let node: unknown = doc.contents;
  let keyNode: unknown;
  for (const step of path) {
    if (isMap(node)) {
      const pair = node.items.find((item) => isScalar(item.key) && item.key.value === step);
      if (!pair) return '';
      keyNode = pair.key;
      node = pair.value;
    } else if (isSeq(node) && typeof step === 'number') {
      node = node.items[step];
      keyNode = node;
    } else {
      return '';
    }
  }
  const target = (keyNode ?? node) as { range?: [number, number, number] } | undefined;
  if (!target?.range) return '';
  return ` (line ${lines.linePos(target.range[0]).line})`;
}
