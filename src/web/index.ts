import type { Bus } from '../bus.js';
import type { FleetView } from '../state/fleet.js';
import { DashboardStore } from '../store/dashboard.js';
import type { Db } from '../store/db.js';
import { dashboardHandler } from './dashboard.js';
import { LiveUpdates } from './live.js';

export { publicLinks } from './links.js';

/** The dashboard, ready to mount on the ops listener: its routes, and close() for the live streams. */
export function mountDashboard(deps: { db: Db; bus: Bus; fleet: FleetView; now?: () => number }) {
  const store = new DashboardStore(deps.db);
  const live = new LiveUpdates({ bus: deps.bus, analysisVersion: () => store.analysisVersion() });
  const routes = dashboardHandler({ store, fleet: deps.fleet, now: deps.now ?? Date.now }, live);
  return { routes, close: () => live.close() };
}
