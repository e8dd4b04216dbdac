import { isDeepStrictEqual } from 'node:util';
import { PLATFORMS } from './chat.js';
import type { Config } from './load.js';

/** Top-level keys a running bot takes over from a reloaded config without reconnecting anything. */
const LIVE_KEYS = ['notify', 'permissions', 'announce', 'mute', 'digest', 'log_level'] as const;

/**
 * Keys that only a restart applies: the masters' feeds, the store and the HTTP listener are wired
 * into too many parts (the analysis queue, force/stop, follow-ups, worker watch) to swap safely.
 */
const RESTART_KEYS = ['masters', 'storage', 'postgres', 'store', 'http', 'workers'] as const;

export interface ReloadPlan {
  /** Settings applied at once. */
  live: string[];
  /** Chat platforms whose adapter is stopped and started again with its new settings (or added/removed). */
  adapters: Array<(typeof PLATFORMS)[number]>;
  /** Changed settings that need a restart: reported, and the running values kept. */
  needRestart: string[];
}

/** What changed between the running config and a reloaded one, and how each change is applied. */
export function planReload(running: Config, next: Config): ReloadPlan {
  const changed = (key: keyof Config) => !isDeepStrictEqual(running[key], next[key]);
  return {
    live: LIVE_KEYS.filter((k) => changed(k)),
    adapters: PLATFORMS.filter((p) => !isDeepStrictEqual(running.chat[p], next.chat[p])),
    needRestart: [
      ...RESTART_KEYS.filter((k) => changed(k)),
      // Unknown future keys are not silently dropped: anything else that changed needs a restart.
      ...Object.keys(next).filter(
        (k) =>
          ![...LIVE_KEYS, ...RESTART_KEYS, 'chat', 'secrets', 'envRefs', 'source'].includes(k) &&
          changed(k as keyof Config),
      ),
    ],
  };
}

/** True when nothing in the plan changes anything. */
export function isEmptyPlan(plan: ReloadPlan): boolean {
  return plan.live.length === 0 && plan.adapters.length === 0 && plan.needRestart.length === 0;
}
