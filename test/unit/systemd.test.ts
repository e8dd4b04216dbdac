/**
 * contrib/bbwatch.service is checked by systemd itself (`systemd-analyze verify`, from Debian's
 * `systemd` package, which .ci/run installs).
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const UNIT = fileURLToPath(new URL('../../contrib/bbwatch.service', import.meta.url));

function verify(path: string): Promise<{ code: number; output: string }> {
  return new Promise((resolve) => {
    execFile('systemd-analyze', ['verify', path], { timeout: 30_000 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
      resolve({ code, output: `${stdout}${stderr}` });
    });
  });
}

/** Lines systemd wrote about our unit (it may warn about unrelated units of the machine it runs on). */
function aboutUnit(output: string, name: string): string[] {
  return output.split('\n').filter((l) => l.includes(name));
}

describe('contrib/bbwatch.service', () => {
  const text = readFileSync(UNIT, 'utf8');

  it('is hardened: its own throw-away user, a read-only system, a state directory', () => {
    for (const line of [
      'DynamicUser=yes',
      'ProtectSystem=strict',
      'StateDirectory=bbwatch',
      'ProtectHome=yes',
      'NoNewPrivileges=yes',
      'PrivateTmp=yes',
      'CapabilityBoundingSet=',
    ]) {
      expect(text.split('\n')).toContain(line);
    }
  });

  // Needs systemd-analyze, which .ci/run installs (Debian's `systemd`), like the lab's buildbot.
  describe('systemd-analyze verify', () => {
    it('accepts the unit without a warning', async () => {
      const { code, output } = await verify(UNIT);
      expect(aboutUnit(output, 'bbwatch.service')).toEqual([]);
      expect(code).toBe(0);
    });

    it('would catch a mistake in it (the check can fail)', async () => {
      const dir = mkdtempSync(join(tmpdir(), 'bbwatch-unit-'));
      try {
        const broken = join(dir, 'bbwatch.service');
        writeFileSync(broken, text.replace('ProtectSystem=strict', 'ProtectSystm=strict'));
        const { output } = await verify(broken);
        expect(aboutUnit(output, 'bbwatch.service').join('\n')).toMatch(/Unknown key 'ProtectSystm'/);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  });
});
