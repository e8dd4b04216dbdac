import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { buttonCommand, renderButtons } from '../../adapters/discord/buttons.js';
import { escapeText, inlineCode, maskedLink } from '../../adapters/discord/markdown.js';
import { deliberateMention, LIMITS, renderEmbed, TONE_COLOURS } from '../../adapters/discord/render.js';
import type { Line, Message, Span, Tone } from '../../src/messages/message.js';
import { messageProblems } from '../support/discord/validate.js';

const BUILD_URL = 'http://127.0.0.1:8010/#/builders/7/builds/12';

function announcement(builder: string, lines: Line[] = []): Message {
  return {
    kind: 'announcement',
    tone: 'failure',
    title: [
      { text: builder, bold: true },
      ' #12 ',
      { text: 'turned red', tone: 'failure', bold: true },
      ': failed test',
    ],
    lines,
    link: { label: 'build #12', url: BUILD_URL },
  };
}

/** What Discord shows for escaped markdown: the backslash escapes removed. */
function shown(markdown: string): string {
  return markdown.replace(/\\(.)/g, '$1');
}

/** Markdown characters not escaped by a backslash (outside what the renderer adds on purpose). */
const UNESCAPED = /(?<!\\)[*_~`|[\]<>]/;

describe('Discord embeds', () => {
  it('colour announcements by result: green, orange, red, purple', () => {
    const colours = (['success', 'warnings', 'failure', 'exception'] as Tone[]).map(
      (tone) => renderEmbed({ ...announcement('b'), tone }).color,
    );
    expect(colours).toEqual([
      TONE_COLOURS.success,
      TONE_COLOURS.warnings,
      TONE_COLOURS.failure,
      TONE_COLOURS.exception,
    ]);
    expect(new Set(colours).size).toBe(4);
    expect(renderEmbed({ kind: 'reply', lines: [['hi']] }).color).toBe(TONE_COLOURS.neutral);
  });

  it('show an announcement as title with link, builder and build fields, groups as fields', () => {
    const embed = renderEmbed(
      announcement('AMD64 Debian root 3.x', [
        ['Had been passing for 2 d (since #3).'],
        ['Failed: ', { text: 'test_ssl', code: true }, ', ', { text: 'test_os', code: true }],
        ['Changes since #11:'],
        ['  ', { text: '3f2a9c1e0b', code: true }, ' Jane Doe: gh-1: Fix the frobnicator'],
        ['  … and 2 more'],
      ]),
    );
    expect(embed.title).toBe('AMD64 Debian root 3.x #12 turned red: failed test');
    expect(embed.url).toBe(BUILD_URL);
    expect(embed.description).toBe('Had been passing for 2 d (since #3).');
    expect(embed.fields).toEqual([
      { name: 'Builder', value: 'AMD64 Debian root 3.x', inline: true },
      { name: 'Build', value: `[build #12](${BUILD_URL})`, inline: true },
      { name: 'Failed', value: '`test_ssl`, `test_os`' },
      { name: 'Changes since #11', value: '`3f2a9c1e0b` Jane Doe: gh-1: Fix the frobnicator\n… and 2 more' },
    ]);
  });

  it('keep a reply without a headline linked at the end, and mark result words', () => {
    const embed = renderEmbed({
      kind: 'reply',
      lines: [[{ text: '#3 FAIL', tone: 'failure' }, ' ', { text: '#2 ok', tone: 'success' }]],
      link: { label: 'builder', url: 'http://x/#/builders/1' },
    });
    expect(embed.title).toBeUndefined();
    expect(embed.description).toBe('🟥 #3 FAIL 🟩 #2 ok\n[builder](http://x/#/builders/1)');
  });

  it('show markdown in build data as the characters it is', () => {
    const name = 'x **bold** _it_ ~~s~~ ||spoiler|| `code` [a](http://evil.example) <t:0> \\ end';
    const embed = renderEmbed(announcement(name, [[`Log: `, name]]));
    for (const text of [embed.title, embed.fields?.[0]?.value]) {
      expect(text).not.toMatch(UNESCAPED);
      expect(shown(text ?? '')).toContain(name);
    }
  });

  it('never start a line as a heading, quote or list', () => {
    const embed = renderEmbed({
      kind: 'reply',
      lines: [['# big'], ['> quoted'], ['- item'], ['1. first'], ['  -# small']],
    });
    expect(embed.description?.split('\n')).toEqual([
      '\\# big',
      '\\> quoted',
      '\\- item',
      '1\\. first',
      '  \\-# small',
    ]);
  });

  it('neutralise mentions: @everyone, @here, users, roles', () => {
    const text = escapeText('@everyone @here <@123> <@!45> <@&678> <#9>');
    expect(text).not.toMatch(/@everyone|@here|(?<!\\)<@/);
    expect(shown(text)).toBe('@\u200beveryone @\u200bhere <@123> <@!45> <@&678> <#9>');
    expect(inlineCode('`@everyone`')).toBe('`ˋ@\u200beveryoneˋ`');
  });

  it('keep one line one line: control characters from build data become spaces', () => {
    const embed = renderEmbed(announcement('evil\n# Header\r\x1b[31mred\u202e'));
    expect(embed.title).toBe('evil # Header red #12 turned red: failed test');
    expect(embed.fields?.[0]?.value).not.toContain('\n');
  });

  it('link only http(s) URLs, with parentheses that cannot end the link early', () => {
    expect(maskedLink('log', 'http://x/a_(b)')).toBe('[log](http://x/a_%28b%29)');
    expect(maskedLink('log', 'javascript:alert(1)')).toBe('log');
    expect(renderEmbed({ ...announcement('b'), link: { label: 'x', url: 'ftp://x' } }).url).toBeUndefined();
  });

  it('cut what is too long at line boundaries and say how much is left out', () => {
    const lines: Line[] = Array.from({ length: 500 }, (_, i) => [`line ${i} ${'x'.repeat(40)}`]);
    const embed = renderEmbed({ kind: 'reply', title: ['many'], lines });
    expect(embed.description?.length).toBeLessThanOrEqual(LIMITS.description);
    expect(embed.description).toMatch(/\n… and \d+ more lines$/);
    const kept = (embed.description ?? '').split('\n').length - 1;
    expect(embed.description).toContain(`… and ${500 - kept} more lines`);
  });

  it('ping only the person a message is for, and only a Discord user', () => {
    const forced = (identity: string | undefined): Message => ({
      ...announcement('b'),
      mention: { name: 'alice', identity },
    });
    expect(deliberateMention(forced('discord:user:123'))).toEqual({ content: '<@123>', userId: '123' });
    for (const identity of ['discord:role:123', 'irc:alice', 'discord:user:@everyone', undefined]) {
      expect(deliberateMention(forced(identity))).toBeUndefined();
    }
    expect(deliberateMention(announcement('b'))).toBeUndefined();
  });

  it('stay within every Discord limit, whatever the message', () => {
    const text = fc.string({ unit: 'grapheme', maxLength: 400 });
    const span: fc.Arbitrary<Span> = fc.oneof(
      text,
      fc.record(
        {
          text,
          bold: fc.boolean(),
          code: fc.boolean(),
          tone: fc.constantFrom<Tone>('success', 'failure', 'neutral'),
          href: fc.webUrl(),
        },
        { requiredKeys: ['text'] },
      ),
    );
    const line = fc.array(span, { maxLength: 6 });
    const message: fc.Arbitrary<Message> = fc.record(
      {
        kind: fc.constantFrom<Message['kind']>('announcement', 'reply'),
        tone: fc.constantFrom<Tone>('success', 'warnings', 'failure', 'exception', 'neutral'),
        title: line,
        lines: fc.array(
          fc.oneof(
            line,
            line.map((l): Line => ['  ', ...l]),
            text.map((t): Line => [`${t}:`]),
          ),
          { maxLength: 120 },
        ),
        link: fc.record({ label: text, url: fc.oneof(fc.webUrl(), text) }),
      },
      { requiredKeys: ['kind', 'lines'] },
    );
    fc.assert(
      fc.property(message, (m) => {
        const embed = renderEmbed(m);
        expect(messageProblems({ embeds: [embed] })).toEqual([]);
        const all = [
          embed.title,
          embed.description,
          ...(embed.fields ?? []).flatMap((f) => [f.name, f.value]),
        ];
        for (const piece of all) expect(piece ?? '').not.toMatch(/@(everyone|here)/);
      }),
      { numRuns: 300 },
    );
  });
});

describe("Discord buttons for a message's actions", () => {
  const base: Message = { kind: 'announcement', title: ['x'], lines: [] };

  it('one button per action, five a row, each carrying its command back when clicked', () => {
    const actions = Array.from({ length: 7 }, (_, i) => ({
      label: `It's gh-${i + 1}`,
      command: `known test_posix gh-${i + 1}`,
    }));
    const rows = renderButtons({ ...base, actions });
    expect(rows.map((r) => r.components.length)).toEqual([5, 2]);
    expect(rows[0]?.components[0]).toEqual({
      type: 2,
      style: 2,
      label: "It's gh-1",
      custom_id: 'bbwatch:run:known test_posix gh-1',
    });
    const ids = rows.flatMap((r) => r.components.map((b) => ('custom_id' in b ? b.custom_id : '')));
    expect(ids.map(buttonCommand)).toEqual(actions.map((a) => a.command));
    // What Discord's own checks say of the message (test/support/discord/validate.ts).
    expect(messageProblems({ content: 'x', components: rows })).toEqual([]);
  });

  it('leaves out a command too long for a custom id, and any after the 25th', () => {
    const long = { label: 'long', command: `known ${'test_x'.repeat(20)} gh-1` };
    const many = Array.from({ length: 30 }, (_, i) => ({ label: `b${i}`, command: `known t gh-${i}` }));
    const rows = renderButtons({ ...base, actions: [long, ...many] });
    const buttons = rows.flatMap((r) => r.components);
    expect(buttons).toHaveLength(25);
    expect(buttons.some((b) => 'label' in b && b.label === 'long')).toBe(false);
    expect(messageProblems({ content: 'x', components: rows })).toEqual([]);
    expect(renderButtons(base)).toEqual([]);
  });

  it('takes back only its own custom ids, with control characters out', () => {
    expect(buttonCommand('other:thing')).toBeUndefined();
    expect(buttonCommand('bbwatch:run:')).toBeUndefined();
    expect(buttonCommand('bbwatch:run:known a\r\nPRIVMSG gh-1')).toBe('known a PRIVMSG gh-1');
  });
});
