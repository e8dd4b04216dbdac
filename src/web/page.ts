import type { FleetView } from '../state/fleet.js';
import type { DashboardStore } from '../store/dashboard.js';
import type { Html } from './html.js';

/** What the pages read: the stored history, the fleet in memory, and the clock. */
export interface DashboardSources {
  store: DashboardStore;
  fleet: FleetView;
  now(): number;
}

/** A rendered page: its title and its main content (what live updates swap). */
export interface Page {
  title: string;
  /** Which navigation entry is current. */
  section: 'fleet' | 'flaky' | 'test' | 'builder';
  main: Html;
}

/** One path segment, encoded for a dashboard link. */
export function seg(text: string): string {
  return encodeURIComponent(text);
}

/** Relative links from a page to the others (pages live at different depths; proxies may add a prefix). */
export interface Links {
  fleet(query?: string): string;
  flaky(): string;
  test(name: string): string;
  builder(master: string, name: string): string;
}

export function linksFrom(root: string): Links {
  return {
    fleet: (query) => `${root}${query ? `?${query}` : ''}`,
    flaky: () => `${root}flaky`,
    test: (name) => `${root}tests/${seg(name)}`,
    builder: (master, name) => `${root}builders/${seg(master)}/${seg(name)}`,
  };
}
