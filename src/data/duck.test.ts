import assert from 'node:assert/strict';
import { stat } from 'node:fs/promises';
import { describe, it } from 'node:test';
import { DuckSession, MAX_DUCK_SESSIONS, withDuckSession } from './duck.js';
import { quoteLiteral } from './schema.js';
import { PENGUINS_JSON } from './testing/fixtures.js';

describe('DuckSession', () => {
  it('should read its views and write its scratch directory once locked down, and nothing else', async () => {
    await withDuckSession(undefined, async (session) => {
      const parquet = session.path('penguins.parquet');
      await session.connection.run(
        `copy (select * from read_json_auto(${quoteLiteral(PENGUINS_JSON)})) to ${quoteLiteral(parquet)} (format parquet)`,
      );
      await session.view('penguins', parquet);
      await session.lockDown();
      const counted = await session.connection.runAndReadAll('select count(*) as n from penguins');
      assert.equal(Number(counted.getRowObjectsJson()[0]?.n), 344);
      await session.connection.run(`copy (select 1 as x) to ${quoteLiteral(session.path('out.csv'))}`);
      for (const attempt of [
        `select * from read_json_auto(${quoteLiteral(PENGUINS_JSON)})`,
        "select * from read_csv('/etc/passwd')",
        "copy (select 1) to '/tmp/kiln-duck-escape.csv'",
        "attach '/tmp/kiln-duck-escape.db' as x",
        'set enable_external_access = true',
        "set allowed_directories = ['/']",
        'install httpfs',
      ]) {
        await assert.rejects(session.connection.run(attempt), /Permission|disabled|locked|Cannot/i, attempt);
      }
    });
  });

  it('should apply its memory limit and remove its directory on close', async () => {
    const session = await DuckSession.open({ memoryLimit: '256MB', threads: 1 });
    const limit = await session.connection.runAndReadAll("select current_setting('memory_limit') as m");
    assert.match(String(limit.getRowObjectsJson()[0]?.m), /^2\d\d(\.\d+)? MiB$/);
    const dir = session.dir;
    await session.close();
    await assert.rejects(stat(dir), { code: 'ENOENT' });
  });

  it('should make a session beyond the limit wait until another closes', async () => {
    const sessions = await Promise.all(Array.from({ length: MAX_DUCK_SESSIONS }, () => DuckSession.open()));
    let opened = false;
    const next = DuckSession.open().then((session) => {
      opened = true;
      return session;
    });
    await new Promise((resolve) => setTimeout(resolve, 100));
    assert.equal(opened, false, 'waits while every slot is taken');
    await sessions.pop()?.close();
    const late = await next;
    assert.equal(opened, true);
    await Promise.all([...sessions, late].map((session) => session.close()));
  });
});
