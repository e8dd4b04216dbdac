import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import { isEmptyPlan, planReload } from '../../src/config/reload.js';

const BASE = `masters:
  - name: lab
    url: http://127.0.0.1:8010/
chat:
  console: true
  irc:
    host: irc.example.org
    nick: bbwatch
    channels: ["#lab"]
notify:
  - to: console
    events: [failure]
`;

const parse = (text: string) => parseConfig(text, 'test.yaml', {});

describe('planReload', () => {
  it('changes nothing for the same file', () => {
    const plan = planReload(parse(BASE), parse(BASE));
    expect(isEmptyPlan(plan)).toBe(true);
  });

  it('applies rules, permissions and announce settings live, reconnecting nothing', () => {
    const next = parse(
      `${BASE}  - to: "irc:#lab"\n    events: [failure, recovery]\npermissions:\n  operate: [console]\nannounce:\n  details: inline\n`,
    );
    expect(planReload(parse(BASE), next)).toEqual({
      live: ['notify', 'permissions', 'announce'],
      adapters: [],
      needRestart: [],
    });
  });

  it('reconnects only the platform whose settings changed, and adds or removes platforms', () => {
    const otherChannel = parse(BASE.replace('["#lab"]', '["#lab", "#other"]'));
    expect(planReload(parse(BASE), otherChannel).adapters).toEqual(['irc']);
    const withoutConsole = parse(
      BASE.replace('  console: true\n', '').replace('  - to: console', '  - to: "irc:#lab"'),
    );
    expect(planReload(parse(BASE), withoutConsole)).toEqual({
      live: ['notify'],
      adapters: ['console'],
      needRestart: [],
    });
  });

  it('reports what only a restart can change', () => {
    const moved = parse(BASE.replace('8010', '8011').replace('chat:', 'storage: ./other.sqlite\nchat:'));
    expect(planReload(parse(BASE), moved)).toEqual({
      live: [],
      adapters: [],
      needRestart: ['masters', 'storage'],
    });
  });
});
