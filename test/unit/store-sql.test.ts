/** The SQL the PostgreSQL store sends: placeholders, aliases, values (src/store/pg-sql.ts). */
import { describe, expect, it } from 'vitest';
import { withDefaults } from '../../src/store/pg.js';
import { pgParams, pgValue, toPostgres } from '../../src/store/pg-sql.js';

describe('toPostgres', () => {
  it('numbers ? placeholders, leaving literals, quoted names and comments alone', () => {
    const q = toPostgres(
      `SELECT '?', "a?", x FROM t -- why?\nWHERE a = ? AND b LIKE ? ESCAPE '\\' /* ? */ AND c = ?`,
    );
    expect(q.text).toBe(
      `SELECT '?', "a?", x FROM t -- why?\nWHERE a = $1 AND b LIKE $2 ESCAPE '\\' /* ? */ AND c = $3`,
    );
    expect(q.positional).toBe(3);
    expect(q.names).toBeUndefined();
  });

  it("handles '' inside a literal", () => {
    expect(toPostgres(`SELECT 'it''s ?' AS s WHERE k = ?`).text).toBe(`SELECT 'it''s ?' AS s WHERE k = $1`);
  });

  it('maps @name placeholders to one number per name', () => {
    const q = toPostgres('INSERT INTO a (x, y, z) VALUES (@now, @id, @now)');
    expect(q.text).toBe('INSERT INTO a (x, y, z) VALUES ($1, $2, $1)');
    expect(q.names).toEqual(['now', 'id']);
    expect(q.insertInto).toBe('a');
    expect(pgParams(q, [{ id: 7, now: 1.5 }])).toEqual(['1.5', '7']);
    expect(() => pgParams(q, [{ now: 1 }])).toThrow(/missing named parameter "id"/);
  });

  it('remembers camelCase aliases (PostgreSQL folds them to lower case)', () => {
    const q = toPostgres(`SELECT MIN(at) AS firstAt, b AS builder, 'AS notMe' FROM t`);
    expect([...q.aliases]).toEqual([['firstat', 'firstAt']]);
  });

  it('notes INSERT targets and RETURNING clauses', () => {
    expect(toPostgres('  insert into Mutes (a) VALUES (?)').insertInto).toBe('mutes');
    expect(toPostgres('INSERT INTO a (b) VALUES (?) RETURNING id').returning).toBe(true);
    expect(toPostgres('SELECT 1').insertInto).toBeUndefined();
  });

  it('refuses mixed placeholders and unterminated literals', () => {
    expect(() => toPostgres('SELECT ? WHERE a = @a')).toThrow(/mixes/);
    expect(() => toPostgres("SELECT 'oops")).toThrow(/unterminated/);
  });
});

describe('values', () => {
  it('binds what better-sqlite3 binds, as text', () => {
    expect(pgValue(null)).toBeNull();
    expect(pgValue(undefined)).toBeNull();
    expect(pgValue(1_700_000_000_123)).toBe('1700000000123');
    expect(pgValue(12n)).toBe('12');
    expect(pgValue('a\0b')).toBe('a\uFFFDb');
    expect(() => pgValue(true)).toThrow(TypeError);
    expect(() => pgValue(Number.NaN)).toThrow(TypeError);
    expect(() => pgParams(toPostgres('SELECT ?, ?'), [1])).toThrow(/takes 2 parameters/);
  });

  it('adds keepalive and timeout settings to the URL unless it sets them', () => {
    const url = new URL(withDefaults('postgres://u:p%40ss@db.example:5433/bb?keepalives_idle=30'));
    expect(url.password).toBe('p%40ss');
    expect(url.searchParams.get('keepalives_idle')).toBe('30');
    expect(url.searchParams.get('tcp_user_timeout')).toBe('5000');
    expect(url.searchParams.get('application_name')).toBe('bbwatch');
  });
});
