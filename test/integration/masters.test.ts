/**
 * Several masters (issue 9, part 5) through the real CLI and the console adapter: the lab master
 * watched twice, once directly as `lab` and once through a TCP proxy as `mirror` (another URL, so
 * another master as far as bbwatch can tell). Announcements name their master and link to it,
 * `!status <master>:<branch>` and `!last <master>:<builder>` answer for that master only.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type BotProcess, startBot, writeConfig } from '../support/bot.js';
import { type Lab, startLab } from '../support/lab.js';
import { type Proxy, startProxy } from '../support/proxy.js';

const BUILDER = 'AMD64 Debian root 3.x';
let lab: Lab;
let mirror: Proxy;
let bot: BotProcess;

/** Types a command; resolves with the reply's lines, from the first one matching `first`. */
async function command(line: string, first: RegExp): Promise<string[]> {
  const from = bot.stdout.length;
  bot.send(line);
  const hit = await bot.waitForLine(first, from);
  await new Promise((r) => setTimeout(r, 200)); // the rest of the reply
  return bot.stdout.slice(bot.stdout.indexOf(hit)).map((l) => l.text);
}

beforeAll(async () => {
  lab = await startLab({
    branches: ['3.x'],
    platforms: ['AMD64 Debian root:stable,tier-1', 'PPC64LE RHEL8:unstable,tier-3'],
  });
  mirror = await startProxy(lab.httpPort);
  await lab.runBuild(BUILDER, 'pass');
  bot = await startBot(
    writeConfig(`masters:
  - name: lab
    url: ${lab.url}
    stream: ws
    timeout: 5s
  - name: mirror
    url: ${mirror.url}
    stream: sse
    timeout: 5s
storage: ./state.sqlite
chat:
  console: true
announce:
  group_window: 0
  details: inline
notify:
  - to: console
    events: [failure, recovery]
`),
  );
}, 120_000);

afterAll(async () => {
  expect(await bot?.stop()).toBe(0);
  await mirror?.close();
  await lab?.close();
});

describe('several masters', () => {
  it('announces on each master, naming it and linking to it', async () => {
    const red = await lab.runBuild(BUILDER, 'fail');
    const fromLab = await bot.waitForLine(new RegExp(`\\[lab\\] ${BUILDER} #${red.number} turned red`));
    const fromMirror = await bot.waitForLine(new RegExp(`\\[mirror\\] ${BUILDER} #${red.number} turned red`));
    const link = (line: { text: string }) => {
      const at = bot.stdout.indexOf(line as (typeof bot.stdout)[number]);
      return bot.stdout
        .slice(at, at + 12)
        .map((l) => l.text)
        .find((t) => t.includes(`/builds/${red.number}`));
    };
    expect(link(fromLab)).toContain(`${lab.url}#/builders/`);
    expect(link(fromMirror)).toContain(`${mirror.url}#/builders/`);
  });

  it('!status <master>:<branch> answers for that master only', async () => {
    const mine = await command('!status mirror:3.x', /^3\.x: 2 builders/);
    expect(mine.join('\n')).toContain(BUILDER);
    expect(mine.join('\n')).toContain(mirror.url);
    expect(mine.join('\n')).not.toContain(lab.url);
    const all = await command('!status 3.x', /^3\.x: 4 builders/);
    expect(all.join('\n')).toMatch(/2 red/);
  });

  it('!last <master>:<builder> names the build on that master', async () => {
    const last = await command(`!last lab:${BUILDER}`, new RegExp(`${BUILDER}`));
    expect(last.join('\n')).toContain(lab.url);
    expect(last.join('\n')).not.toContain(mirror.url);
  });

  it('says which master when a name is ambiguous or unknown', async () => {
    const unknown = await command('!status nowhere:3.x', /No builder matches/);
    expect(unknown[0]).toContain('nowhere:3.x');
  });
});
