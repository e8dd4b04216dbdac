import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Bus } from '../bus.js';
import type { FleetView } from '../state/fleet.js';
import { DashboardStore } from '../store/dashboard.js';
import type { Db } from '../store/db.js';
import { dashboardHandler } from './dashboard.js';
import { LiveUpdates } from './live.js';

export { publicLinks } from './links.js';

export interface MountedDashboard {
  /** For startHttp's `routes`. */
  routes: (req: IncomingMessage, res: ServerResponse) => boolean;
  /** Ends the live streams (before the listener closes). */
  close(): void;
}

/** The dashboard, ready to mount on the ops listener. */
export function mountDashboard(deps: {
  db: Db;
  bus: Bus;
  fleet: FleetView;
  now?: () => number;
}): MountedDashboard {
  const store = new DashboardStore(deps.db);
  const live = new LiveUpdates({ bus: deps.bus });
  const routes = dashboardHandler({ store, fleet: deps.fleet, now: deps.now ?? Date.now }, live);
  return { routes, close: () => live.close() };
}
