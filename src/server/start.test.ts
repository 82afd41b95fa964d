import assert from 'node:assert/strict';
import { rm } from 'node:fs/promises';
import { after, describe, it } from 'node:test';
import { sql } from 'kysely';
import { type KilnConfig, KilnError, silentLogger } from '../core/index.js';
import { openDatabase } from '../store/index.js';
import { startServer } from './start.js';
import { testConfig } from './testing/app.js';

describe('startServer', () => {
  const homes: string[] = [];
  const config = async (env: Record<string, string> = {}): Promise<KilnConfig> => {
    const made = await testConfig(env);
    homes.push(made.home);
    return made;
  };
  after(async () => {
    for (const home of homes) await rm(home, { recursive: true, force: true });
  });

  it('should fail start-up with INVALID_STATE naming the migration that failed', async () => {
    const broken = await config();
    const database = await openDatabase(broken.databaseUrl);
    await sql`create table kiln_workspaces (unrelated integer)`.execute(database.kysely);
    await database.close();

    await assert.rejects(startServer(broken, silentLogger()), (err: KilnError) => {
      assert.ok(err instanceof KilnError);
      assert.equal(err.code, 'INVALID_STATE');
      assert.match(err.message, /^Database migration \d{8}-\d\d-auth-workspaces failed: /);
      return true;
    });
  });

  it('should reject when the port is taken, and start again once it is free', async () => {
    const first = await startServer(await config(), silentLogger());
    const port = new URL(first.url).port;
    const clash = await config({ KILN_PORT: port });
    try {
      await assert.rejects(startServer(clash, silentLogger()), { code: 'EADDRINUSE' });
    } finally {
      await first.close();
    }
    const second = await startServer(clash, silentLogger());
    assert.equal(new URL(second.url).port, port);
    await second.close();
  });

  it('should close idempotently', async () => {
    const server = await startServer(await config(), silentLogger());
    const closing = server.close();
    assert.equal(server.close(), closing);
    await closing;
  });
});
