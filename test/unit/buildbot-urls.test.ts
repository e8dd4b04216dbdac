import { describe, expect, it } from 'vitest';
import { buildersViewUrl, buildPageUrl, logPageUrl, parseBuildPageUrl } from '../../src/buildbot/urls.js';

describe("the master's web UI links", () => {
  it('spells the pages as Buildbot routes them', () => {
    const master = 'https://buildbot.python.org/all/';
    expect(buildPageUrl(master, 12, 345)).toBe('https://buildbot.python.org/all/#/builders/12/builds/345');
    expect(logPageUrl(master, { builderid: 12, number: 345 }, 6, 'stdio')).toBe(
      'https://buildbot.python.org/all/#/builders/12/builds/345/steps/6/logs/stdio',
    );
    expect(buildersViewUrl(master, ['3.x', 'stable'])).toBe(
      'https://buildbot.python.org/all/#/builders?tags=%2B3.x&tags=%2Bstable',
    );
  });

  it('reads a build page URL a user pastes, with or without the slash before #', () => {
    expect(parseBuildPageUrl('https://buildbot.python.org/all/#/builders/12/builds/345')).toEqual({
      masterUrl: 'https://buildbot.python.org/all/',
      builderid: 12,
      number: 345,
    });
    expect(parseBuildPageUrl('http://127.0.0.1:8010#/builders/1/builds/2/steps/3')?.masterUrl).toBe(
      'http://127.0.0.1:8010/',
    );
    expect(parseBuildPageUrl('https://buildbot.python.org/all/#/builders/12')).toBeUndefined();
  });
});
