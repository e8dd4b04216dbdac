/**
 * Vitest global setup: every temporary file of a test run (configs, stores, lab masters, sockets)
 * goes under one directory, removed when the run ends, so runs leave nothing behind in /tmp.
 * Workers and the processes the tests start inherit TMPDIR, which `os.tmpdir()` reads.
 */
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export default async function setup(): Promise<() => Promise<void>> {
  const before = process.env.TMPDIR;
  const dir = await mkdtemp(join(tmpdir(), 'bbwatch-test-run-'));
  // Traversable by the system users some servers run as (PostgreSQL as `postgres`), not listable.
  await chmod(dir, 0o711);
  process.env.TMPDIR = dir;
  return async () => {
    if (before === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = before;
    // A process a test started may still be writing as it exits: retry rather than fail the run.
    await rm(dir, { recursive: true, force: true, maxRetries: 5, retryDelay: 200 });
  };
}
