import type { Config } from '../config/load.js';

/**
 * Every secret in a configuration, whether it came from the environment or was written in the
 * file: the doctor masks each wherever it would print it.
 */
export function secretsOf(config: Config): string[] {
  const found: Array<string | undefined> = [...config.secrets];
  for (const m of config.masters) {
    if (m.auth && 'password' in m.auth) found.push(m.auth.password);
    if (m.auth && 'cookie' in m.auth) found.push(m.auth.cookie, m.auth.cookie.replace(/^[^=]*=/, ''));
  }
  const { irc, discord, matrix } = config.chat;
  found.push(irc?.sasl?.password, irc?.nickserv?.password, irc?.server_password);
  for (const c of irc?.channels ?? []) found.push(c.key);
  found.push(discord?.token, matrix?.access_token, matrix?.password, config.tracker?.token);
  if (config.postgres) {
    try {
      const password = new URL(config.postgres).password;
      found.push(password, decodeURIComponent(password));
    } catch {
      found.push(config.postgres);
    }
  }
  return [...new Set(found.filter((s): s is string => typeof s === 'string' && s.length > 0))];
}
