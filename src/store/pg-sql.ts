/**
 * The little that turns the store's SQL (written to run on SQLite and PostgreSQL alike) into what
 * libpq takes: `?` and `@name` placeholders become `$1..$n`, and camelCase column aliases get their
 * case back (PostgreSQL folds unquoted names to lower case; SQLite keeps them as written).
 * String literals, quoted identifiers and comments are left alone.
 */
export interface PgQuery {
  text: string;
  /** `@name` placeholders: the parameter names in `$n` order. Undefined for `?` placeholders. */
  names: string[] | undefined;
  /** Positional placeholders (`?`) in the statement. */
  positional: number;
  /** lower-case alias → the alias as written, for aliases with capitals. */
  aliases: Map<string, string>;
  /** The table of an `INSERT INTO <table>`, lower case. */
  insertInto: string | undefined;
  /** Whether the statement already has a RETURNING clause. */
  returning: boolean;
}

export function toPostgres(sql: string): PgQuery {
  let text = '';
  /** The statement with literals, quoted names and comments blanked, for the keyword checks. */
  let code = '';
  let positional = 0;
  const names: string[] = [];
  let i = 0;
  while (i < sql.length) {
    const c = sql[i] as string;
    const next = sql[i + 1];
    const skipTo = (end: number) => {
      text += sql.slice(i, end);
      code += ' '.repeat(end - i);
      i = end;
    };
    if (c === "'" || c === '"') {
      // '' (or "") inside is the quote itself, so the next lone quote ends it.
      let j = i + 1;
      for (;;) {
        j = sql.indexOf(c, j);
        if (j < 0) throw new Error(`unterminated ${c} in SQL: ${sql.slice(0, 80)}`);
        if (sql[j + 1] === c) j += 2;
        else break;
      }
      skipTo(j + 1);
    } else if (c === '-' && next === '-') {
      const j = sql.indexOf('\n', i);
      skipTo(j < 0 ? sql.length : j);
    } else if (c === '/' && next === '*') {
      const j = sql.indexOf('*/', i + 2);
      skipTo(j < 0 ? sql.length : j + 2);
    } else if (c === '?') {
      positional++;
      text += `$${positional}`;
      code += ' ';
      i++;
    } else if (c === '@' && /[A-Za-z_]/.test(next ?? '')) {
      const name = /^[A-Za-z_][A-Za-z0-9_]*/.exec(sql.slice(i + 1))?.[0] as string;
      let n = names.indexOf(name);
      if (n < 0) n = names.push(name) - 1;
      text += `$${n + 1}`;
      code += ' ';
      i += name.length + 1;
    } else {
      text += c;
      code += c;
      i++;
    }
  }
  if (positional > 0 && names.length > 0) throw new Error(`SQL mixes ? and @name placeholders: ${sql}`);
  const aliases = new Map<string, string>();
  for (const m of code.matchAll(/\bAS\s+([A-Za-z_][A-Za-z0-9_]*)/gi)) {
    const alias = m[1] as string;
    if (alias !== alias.toLowerCase()) aliases.set(alias.toLowerCase(), alias);
  }
  return {
    text,
    names: names.length > 0 ? names : undefined,
    positional,
    aliases,
    insertInto: /^\s*INSERT\s+INTO\s+([A-Za-z_][A-Za-z0-9_]*)/i.exec(code)?.[1]?.toLowerCase(),
    returning: /\bRETURNING\b/i.test(code),
  };
}

/** A value as libpq takes it (text, or null), refusing what SQLite would refuse to bind too. */
export function pgValue(value: unknown): string | null {
  if (value === null || value === undefined) return null;
  if (typeof value === 'string') return value.includes('\0') ? value.replace(/\0/g, '\uFFFD') : value;
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new TypeError(`cannot store ${value}`);
    return String(value);
  }
  if (typeof value === 'bigint') return value.toString();
  throw new TypeError(`the store binds only numbers, strings, bigints and null, not ${typeof value}`);
}

/** The parameter list for a query: positional values, or one object of named values. */
export function pgParams(query: PgQuery, params: readonly unknown[]): Array<string | null> {
  if (query.names) {
    const [named] = params;
    if (params.length !== 1 || named === null || typeof named !== 'object') {
      throw new TypeError('this statement takes one object of named parameters');
    }
    const byName = named as Record<string, unknown>;
    return query.names.map((name) => {
      if (!(name in byName)) throw new RangeError(`missing named parameter "${name}"`);
      return pgValue(byName[name]);
    });
  }
  if (params.length !== query.positional) {
    throw new RangeError(`the statement takes ${query.positional} parameters, got ${params.length}`);
  }
  return params.map(pgValue);
}
