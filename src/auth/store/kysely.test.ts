import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { DEFAULT_WORKSPACE, silentLogger } from '../../core/index.js';
import { type Database, migrate } from '../../store/index.js';
import { type TestDatabase, testDatabases } from '../../store/testing/databases.js';
import { AUTH_MIGRATIONS } from '../migrations.js';
import { KyselyWorkspaceStore } from './kysely.js';

function workspace(name: string, at = '2026-01-01T00:00:00.000Z') {
  return { name, description: `about ${name}`, createdAt: at, updatedAt: at };
}

for (const target of await testDatabases()) {
  describe(`workspace store on ${target.name}`, { skip: target.skip }, () => {
    let db: TestDatabase;
    let database: Database;
    let store: KyselyWorkspaceStore;

    before(async () => {
      db = await target.create();
      database = await db.open();
      const report = await migrate(database, AUTH_MIGRATIONS, silentLogger());
      assert.equal(report.error, undefined);
      store = new KyselyWorkspaceStore(database);
    });
    after(() => db.cleanup());

    it('should hold the seeded default workspace', async () => {
      const found = await store.get(DEFAULT_WORKSPACE);
      assert.equal(found?.name, DEFAULT_WORKSPACE);
    });

    it('should keep the seed when migrations run again', async () => {
      const report = await migrate(database, AUTH_MIGRATIONS, silentLogger());
      assert.deepEqual(report.applied, []);
      assert.equal((await store.list(10)).filter((w) => w.name === DEFAULT_WORKSPACE).length, 1);
    });

    it('should insert and read back a workspace exactly', async () => {
      assert.equal(await store.insert(workspace('alpha')), true);
      assert.deepEqual(await store.get('alpha'), workspace('alpha'));
    });

    it('should report a duplicate insert as false and keep the original', async () => {
      assert.equal(await store.insert({ ...workspace('alpha'), description: 'other' }), false);
      assert.equal((await store.get('alpha'))?.description, 'about alpha');
    });

    it('should answer undefined for an unknown name', async () => {
      assert.equal(await store.get('nobody'), undefined);
    });

    it('should list in name order after a cursor', async () => {
      for (const name of ['delta', 'bravo', 'charlie']) await store.insert(workspace(name));
      const all = (await store.list(100)).map((w) => w.name);
      assert.deepEqual(all, ['alpha', 'bravo', 'charlie', 'default', 'delta']);
      assert.deepEqual(
        (await store.list(2, 'bravo')).map((w) => w.name),
        ['charlie', 'default'],
      );
      assert.deepEqual(await store.list(5, 'delta'), []);
    });

    it('should update the description and the update time only', async () => {
      const updated = await store.updateDescription('bravo', 'new words', '2026-02-02T00:00:00.000Z');
      assert.deepEqual(updated, {
        name: 'bravo',
        description: 'new words',
        createdAt: '2026-01-01T00:00:00.000Z',
        updatedAt: '2026-02-02T00:00:00.000Z',
      });
      assert.equal(await store.updateDescription('nobody', 'x', '2026-02-02T00:00:00.000Z'), undefined);
    });

    it('should delete once', async () => {
      assert.equal(await store.delete('charlie'), true);
      assert.equal(await store.delete('charlie'), false);
      assert.equal(await store.get('charlie'), undefined);
    });
  });
}
