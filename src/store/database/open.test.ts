import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { sql } from 'kysely';
import { openDatabase } from './open.js';
import { rejectsWithCode } from './testing/harness.js';

describe('openDatabase rejects what cannot work', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'kiln-open-'));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it('refuses an unsupported scheme, masking the password', async () => {
    const err = await rejectsWithCode(openDatabase('mysql://root:hunter2@db/kiln'), 'INVALID_CONFIGURATION', /mysql:/);
    assert.doesNotMatch(err.message, /hunter2/);
  });

  it('reports unreachable PostgreSQL as TEMPORARILY_UNAVAILABLE, naming the masked URL and cause', async () => {
    const err = await rejectsWithCode(
      openDatabase('postgres://kiln:hunter2@127.0.0.1:1/kiln'),
      'TEMPORARILY_UNAVAILABLE',
      /postgres:\/\/kiln:\*\*\*@127\.0\.0\.1:1\/kiln.*ECONNREFUSED/,
    );
    assert.doesNotMatch(err.message, /hunter2/);
    assert.doesNotMatch(JSON.stringify(err.details), /hunter2/);
  });

  it('refuses a schema name PostgreSQL would fold or that needs quoting', async () => {
    await rejectsWithCode(
      openDatabase('postgres://u:p@127.0.0.1:1/db?schema=Team-A'),
      'INVALID_CONFIGURATION',
      /schema/,
    );
  });

  it('refuses a SQLite path whose directory cannot be created', async () => {
    const file = join(dir, 'plain-file');
    await writeFile(file, 'not a directory');
    await rejectsWithCode(openDatabase(`sqlite://${file}/sub/kiln.db`), 'INVALID_CONFIGURATION', /plain-file/);
  });

  it('refuses a file that is not a SQLite database', async () => {
    const file = join(dir, 'garbage.db');
    await writeFile(file, Buffer.alloc(8192, 7));
    await rejectsWithCode(openDatabase(`sqlite://${file}`), 'DATA_LOSS', /garbage\.db/);
  });

  it('creates missing parent directories and opens in WAL mode with FULL sync', async () => {
    const database = await openDatabase(`sqlite://${join(dir, 'a', 'b', 'kiln.db')}`);
    try {
      const journal = await sql<{ journal_mode: string }>`pragma journal_mode`.execute(database.kysely);
      const synchronous = await sql<{ synchronous: number }>`pragma synchronous`.execute(database.kysely);
      const foreignKeys = await sql<{ foreign_keys: number }>`pragma foreign_keys`.execute(database.kysely);
      assert.equal(journal.rows[0]?.journal_mode, 'wal');
      assert.equal(synchronous.rows[0]?.synchronous, 2);
      assert.equal(foreignKeys.rows[0]?.foreign_keys, 1);
    } finally {
      await database.close();
    }
  });

  it('opens an in-memory SQLite database', async () => {
    const database = await openDatabase('sqlite://:memory:');
    await database.ping();
    assert.equal(database.dialect, 'sqlite');
    await database.close();
  });
});
