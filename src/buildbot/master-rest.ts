import type { Logger } from 'pino';
import type { MasterConfig } from '../config/schema.js';
import { RequestBudget } from './budget.js';
import { BuildbotRest } from './rest.js';
import { BuildbotSession } from './session.js';

/**
 * The REST client for a configured master: its one request budget and its one session (the
 * configured `auth`), which the event streams and control of that master share through it.
 */
export function masterRest(master: MasterConfig, log: Logger): BuildbotRest {
  const budget = new RequestBudget(master.request_budget.requests, master.request_budget.per);
  return new BuildbotRest({
    baseUrl: master.url,
    budget,
    timeoutMs: master.timeout,
    log,
    session: new BuildbotSession({
      baseUrl: master.url,
      auth: master.auth,
      budget,
      timeoutMs: master.timeout,
      log,
      masterName: master.name,
    }),
  });
}
