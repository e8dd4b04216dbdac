import type { FleetView } from '../../state/fleet.js';

/** The build's page on its master, or undefined for a master no longer configured. */
export function buildUrl(
  fleet: FleetView,
  master: string,
  builderid: number,
  number: number,
): string | undefined {
  return fleet.masters().some((m) => m.name === master)
    ? fleet.buildUrl(master, builderid, number)
    : undefined;
}
