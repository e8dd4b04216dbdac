/**
 * Vitest global setup: one directory per test run where test/support/lab4/bb4 unpacks Buildbot 4.3
 * (on first use only, so runs without a 4.3 lab unpack nothing); removed when the run ends.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';

declare module 'vitest' {
  export interface ProvidedContext {
    /** BB4_SRC for test/support/lab4/bb4 (see test/support/lab.ts). */
    bb4Src: string;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const dir = await mkdtemp(join(tmpdir(), 'bbwatch-bb4-'));
  project.provide('bb4Src', join(dir, 'buildbot-4.3.0'));
  return () => rm(dir, { recursive: true, force: true });
}
