import { existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Lab, Results, startLab } from '../support/lab.js';

const BUILDER = 'AMD64 Debian root 3.x';

describe('buildbot lab harness', () => {
  let lab: Lab;

  beforeAll(async () => {
    lab = await startLab({ branches: ['3.x'], platforms: ['AMD64 Debian root:stable,tier-1'] });
  });

  afterAll(async () => {
    await lab?.close();
  });

  it('serves the configured fleet on its own port', async () => {
    expect(lab.url).toBe(`http://127.0.0.1:${lab.httpPort}/`);
    const builders = await lab.builders();
    expect(builders.map((b) => b.name).sort()).toEqual([BUILDER, 'AMD64 Debian root custom']);
    expect(builders.find((b) => b.name === BUILDER)?.tags.sort()).toEqual(['3.x', 'stable', 'tier-1']);
    const { masters } = await lab.api<{ masters: Array<{ active: boolean }> }>('masters');
    expect(masters.some((m) => m.active)).toBe(true);
    expect(existsSync(`${lab.dir}/master/state.sqlite`)).toBe(true);
  });

  it('runs fail, pass and warn builds with genuine results', async () => {
    const failed = await lab.runBuild(BUILDER, 'fail');
    expect(failed.complete).toBe(true);
    expect(failed.results).toBe(Results.FAILURE);

    const passed = await lab.runBuild(BUILDER, 'pass');
    expect(passed.results).toBe(Results.SUCCESS);
    expect(passed.number).toBe(failed.number + 1);

    const warned = await lab.runBuild(BUILDER, 'warn');
    expect(warned.results).toBe(Results.WARNINGS);
  });

  it('gives EXCEPTION for the exception scenario', async () => {
    const build = await lab.runBuild(BUILDER, 'exception');
    expect(build.results).toBe(Results.EXCEPTION);
  });

  it('forces through the custom scheduler with parameters', async () => {
    await lab.setScenario('pass');
    const forced = await lab.force(['AMD64 Debian root custom'], 'custom', {
      repository: 'https://github.com/someone/cpython',
      branch: 'fix-it',
    });
    expect(forced.bsid).toBeGreaterThan(0);
    expect(Object.keys(forced.brids)).toEqual(['AMD64 Debian root custom']);
    const started = forced.builds['AMD64 Debian root custom'];
    expect(started).toBeDefined();
    const done = await lab.waitForBuild('AMD64 Debian root custom', started!.number);
    expect(done.results).toBe(Results.SUCCESS);
    const { buildsets } = await lab.api<{
      buildsets: Array<{ sourcestamps: Array<{ repository: string; branch: string }> }>;
    }>(`buildsets/${forced.bsid}`);
    expect(buildsets[0]?.sourcestamps[0]).toMatchObject({
      repository: 'https://github.com/someone/cpython',
      branch: 'fix-it',
    });
  });

  it('survives a master restart', async () => {
    const before = await lab.runBuild(BUILDER, 'pass');
    await lab.restartMaster();
    const after = await lab.runBuild(BUILDER, 'fail');
    expect(after.results).toBe(Results.FAILURE);
    expect(after.number).toBe(before.number + 1);
  });
});
