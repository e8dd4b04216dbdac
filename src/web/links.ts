import type { DashboardLinks } from '../chat/command.js';

/** The dashboard's pages under its public base URL (`http.public_url`, ending in `/`). */
export function publicLinks(base: string): DashboardLinks {
  const root = base.endsWith('/') ? base : `${base}/`;
  return {
    fleet(filter = {}) {
      const query = new URLSearchParams();
      if (filter.master) query.append('master', filter.master);
      if (filter.branch) query.append('branch', filter.branch);
      for (const tag of filter.tags ?? []) query.append('tag', tag);
      const text = query.toString();
      return text ? `${root}?${text}` : root;
    },
    flaky: () => `${root}flaky`,
    test: (name) => `${root}tests/${encodeURIComponent(name)}`,
    builder: (master, name) => `${root}builders/${encodeURIComponent(master)}/${encodeURIComponent(name)}`,
  };
}
