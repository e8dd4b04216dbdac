/** `postgres:` in the configuration (README: "Two replicas (PostgreSQL)"). */
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import { problems } from '../support/config.js';

const MASTERS = 'masters:\n  - name: lab\n    url: http://127.0.0.1:8010/\n';

describe('postgres:', () => {
  it('is off by default: SQLite', () => {
    expect(parseConfig(MASTERS, 'test.yaml', {}).postgres).toBeUndefined();
  });

  it('takes a URL from the environment, kept as a secret', () => {
    const url = 'postgres://bbwatch:s3cret@db.example:5432/bbwatch?sslmode=require';
    const config = parseConfig(`${MASTERS}postgres: "\${BBWATCH_DATABASE_URL}"\n`, 'test.yaml', {
      BBWATCH_DATABASE_URL: url,
    });
    expect(config.postgres).toBe(url);
    expect(config.secrets).toContain(url);
  });

  it('refuses what is not a postgres:// URL, without repeating it', () => {
    const found = problems(`${MASTERS}postgres: "host=db password=hunter2"\n`);
    expect(found).toEqual(['postgres (line 4): must be a postgres:// or postgresql:// URL']);
  });
});
