/**
 * The shapes of the master's web UI links (its `#/...` routes): the one place that spells them.
 * `masterUrl` is the master's base URL, its `buildbotURL`, ending in `/`.
 */

/** A build's page (`<master>#/builders/12/builds/345`). */
export function buildPageUrl(masterUrl: string, builderid: number, number: number): string {
  return `${masterUrl}#/builders/${builderid}/builds/${number}`;
}

/** A builder's page. */
export function builderPageUrl(masterUrl: string, builderid: number): string {
  return `${masterUrl}#/builders/${builderid}`;
}

/** A log's page within its build. */
export function logPageUrl(
  masterUrl: string,
  build: { builderid: number; number: number },
  stepNumber: number,
  slug: string,
): string {
  return `${buildPageUrl(masterUrl, build.builderid, build.number)}/steps/${stepNumber}/logs/${slug}`;
}

/** A build request's page (where a forced build waits for a worker). */
export function buildRequestPageUrl(masterUrl: string, brid: number): string {
  return `${masterUrl}#/buildrequests/${brid}`;
}

/** The master's builders view filtered to builders with every one of `tags` (`#/builders?tags=%2B3.x`). */
export function buildersViewUrl(masterUrl: string, tags: readonly string[]): string {
  const query = tags.map((t) => `tags=${encodeURIComponent(`+${t}`)}`).join('&');
  return `${masterUrl}#/builders${query ? `?${query}` : ''}`;
}

/** `https://master/#/builders/12/builds/345` → the master's base URL, the builder and the build number. */
export function parseBuildPageUrl(
  url: string,
): { masterUrl: string; builderid: number; number: number } | undefined {
  const m = /^(https?:\/\/[^#]*?)\/?#\/builders\/(\d+)\/builds\/(\d+)/.exec(url);
  if (!m?.[1] || !m[2] || !m[3]) return undefined;
  return { masterUrl: `${m[1]}/`, builderid: Number(m[2]), number: Number(m[3]) };
}

/** What a build page URL looks like, for messages that ask for one. */
export const BUILD_PAGE_URL_SHAPE = '<master>/#/builders/<id>/builds/<number>';
