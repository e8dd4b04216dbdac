import { ESLint } from 'eslint';
import { describe, expect, it } from 'vitest';

/**
 * The Buildbot wall (eslint.config.js): REST paths, web UI URL shapes and numeric result codes are
 * refused outside src/buildbot. Each snippet is code this repository had before the wall, linted
 * as if it stood in the file named.
 */
const eslint = new ESLint({ cwd: new URL('../..', import.meta.url).pathname });

async function wallErrors(filePath: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath });
  return (result?.messages ?? []).filter((m) => m.ruleId === 'no-restricted-syntax').map((m) => m.message);
}

// Type-aware linting starts TypeScript's project service: seconds on a busy machine.
describe('the Buildbot wall lint rule', { timeout: 60_000 }, () => {
  it('refuses a REST path outside src/buildbot', async () => {
    const code = [
      "import type { BuildbotRest } from '../buildbot/rest.js';",
      'export const running = (rest: BuildbotRest, id: number) => rest.url(`builders/${id}/builds`);',
      "export const workers = (rest: BuildbotRest) => rest.url('workers/');",
      '',
    ].join('\n');
    const errors = await wallErrors('src/control/service.ts', code);
    expect(errors).toHaveLength(2);
    expect(errors[0]).toMatch(
      /^Buildbot is spoken in src\/buildbot only: call a typed method of BuildbotRest/,
    );
    // The same code is at home in the client.
    expect(await wallErrors('src/buildbot/rest.ts', code)).toEqual([]);
  });

  it("refuses the master's UI URL shapes, and leaves the dashboard's own routes alone", async () => {
    const shape = 'export const page = (url: string, id: number) => `${url}#/builders/${id}`;\n';
    expect(await wallErrors('src/state/fleet.ts', shape)).toHaveLength(1);
    expect(await wallErrors('commands/status.ts', shape)).toHaveLength(1);
    const dashboard = 'export const page = (root: string, m: string) => `${root}builders/${m}`;\n';
    expect(await wallErrors('src/web/links.ts', dashboard)).toEqual([]);
  });

  it('refuses numeric result codes, and leaves null and named results alone', async () => {
    const numbers = [
      'export const red = (b: { results: number | null }) => b.results === 2;',
      'export const tone = (results: number) => {',
      '  switch (results) {',
      '    case 0:',
      "      return 'success';",
      '    default:',
      "      return 'other';",
      '  }',
      '};',
      '',
    ].join('\n');
    const errors = await wallErrors('src/web/pages/builder.ts', numbers);
    expect(errors).toHaveLength(2);
    expect(errors[0]).toMatch(/compare results with the names of src\/buildbot\/results\.ts/);
    const named = [
      "import { Results } from '../../buildbot/results.js';",
      'export const red = (b: { results: number | null }) => b.results !== null && b.results === Results.FAILURE;',
      '',
    ].join('\n');
    expect(await wallErrors('src/web/pages/builder.ts', named)).toEqual([]);
  });
});
