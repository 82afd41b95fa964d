import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { pathToFileURL } from 'node:url';
import { type KilnError, silentLogger, systemContext } from '../core/index.js';
import { type BlobStore, type Database, migrate, openBlobStore } from '../store/index.js';
import { type TestDatabase, testDatabases } from '../store/testing/databases.js';
import { DATA_MIGRATIONS } from './migrations.js';
import { DatasetService } from './service.js';
import { KyselyDatasetStore } from './store/kysely.js';
import { PENGUINS_JSON, SEATTLE_CSV } from './testing/fixtures.js';

const ctx = systemContext('test');

for (const target of await testDatabases()) {
  describe(`DatasetService on ${target.name} + file blobs`, { skip: target.skip }, () => {
    let db: TestDatabase;
    let database: Database;
    let blobs: BlobStore;
    let store: KyselyDatasetStore;
    let service: DatasetService;
    let dir: string;

    before(async () => {
      dir = await mkdtemp(join(tmpdir(), 'kiln-data-service-'));
      db = await target.create();
      database = await db.open();
      assert.equal((await migrate(database, DATA_MIGRATIONS, silentLogger())).error, undefined);
      blobs = openBlobStore({ url: pathToFileURL(join(dir, 'blobs')).href });
      store = new KyselyDatasetStore(database);
      service = new DatasetService(store, blobs);
    });
    after(async () => {
      await blobs.close();
      await db.cleanup();
      await rm(dir, { recursive: true, force: true });
    });

    const blobKeys = async () => (await blobs.list('datasets/')).items.map((item) => item.key);

    it('should create, get and list datasets, refusing duplicates and bad names', async () => {
      const created = await service.create(ctx, {
        name: 'penguins',
        description: 'Palmer penguins',
        tags: { src: 'vega' },
      });
      assert.deepEqual(await service.get(ctx, 'penguins'), created);
      await service.create(ctx, { name: 'weather' });
      assert.deepEqual(
        (await service.list(ctx)).datasets.map((d) => d.name),
        ['penguins', 'weather'],
      );
      await assert.rejects(service.create(ctx, { name: 'penguins' }), { code: 'RESOURCE_ALREADY_EXISTS' });
      await assert.rejects(service.create(ctx, { name: '../x' }), { code: 'INVALID_PARAMETER_VALUE' });
      await assert.rejects(service.get(ctx, 'nobody'), { code: 'RESOURCE_DOES_NOT_EXIST' });
      const other = systemContext('test', 'elsewhere');
      assert.deepEqual((await service.list(other)).datasets, []);
    });

    it('should store identical content once under one digest, numbering versions', async () => {
      const v1 = await service.ingestVersion(ctx, 'penguins', { path: PENGUINS_JSON });
      const v2 = await service.ingestVersion(ctx, 'penguins', { path: PENGUINS_JSON });
      assert.deepEqual([v1.version, v2.version], [1, 2]);
      assert.equal(v1.digest, v2.digest);
      assert.equal(v1.blobKey, `datasets/sha256/${v1.digest}.parquet`);
      assert.deepEqual(await blobKeys(), [v1.blobKey]);
      assert.equal(v1.rowCount, 344);
      assert.equal(v1.createdBy, 'system');
      assert.deepEqual(await service.getVersion(ctx, 'penguins', 1), v1);
      assert.deepEqual(
        (await service.listVersions(ctx, 'penguins')).map((v) => v.version),
        [1, 2],
      );
      await assert.rejects(service.getVersion(ctx, 'penguins', 9), { code: 'RESOURCE_DOES_NOT_EXIST' });
    });

    it('should diff the schemas of two versions', async () => {
      const v3 = await service.ingestVersion(ctx, 'penguins', { path: SEATTLE_CSV });
      const diff = await service.diff(ctx, 'penguins', 1, v3.version);
      assert.deepEqual(
        diff.added.map((c) => c.name),
        ['date', 'precipitation', 'temp_max', 'temp_min', 'wind', 'weather'],
      );
      assert.equal(diff.removed.length, 7);
      assert.deepEqual(await service.diff(ctx, 'penguins', 1, 2), {
        added: [],
        removed: [],
        retyped: [],
        nullabilityChanged: [],
      });
    });

    it('should put the content back when a concurrent failed ingest removed it while this one recorded', async () => {
      await service.create(ctx, { name: 'raced' });
      const first = await service.ingestVersion(ctx, 'raced', { path: PENGUINS_JSON });
      // The other ingest's clean-up runs between this one's existence check and its commit.
      const racing = Object.create(store) as KyselyDatasetStore;
      racing.appendVersion = async (version) => {
        await blobs.delete(first.blobKey);
        return store.appendVersion(version);
      };
      const second = await new DatasetService(racing, blobs).ingestVersion(ctx, 'raced', { path: PENGUINS_JSON });
      assert.equal(second.blobKey, first.blobKey);
      assert.notEqual(await blobs.stat(first.blobKey), undefined, 'the object a recorded version names exists');
    });

    it('should leave no version and no blob behind when the file is bad', async () => {
      const before = await blobKeys();
      const bad = join(dir, 'bad.parquet');
      await writeFile(bad, 'not,parquet\n1,2\n');
      await assert.rejects(service.ingestVersion(ctx, 'weather', { path: bad }), { code: 'INVALID_PARAMETER_VALUE' });
      await assert.rejects(
        service.ingestVersion(ctx, 'weather', { path: join(dir, 'missing.csv') }),
        (err: KilnError) => err.code === 'INVALID_PARAMETER_VALUE' && err.details?.field === 'path',
      );
      await assert.rejects(service.ingestVersion(ctx, 'nobody', { path: SEATTLE_CSV }), {
        code: 'RESOURCE_DOES_NOT_EXIST',
      });
      assert.deepEqual(await service.listVersions(ctx, 'weather'), []);
      assert.deepEqual(await blobKeys(), before);
    });

    it('should delete a new blob when recording the version fails', async () => {
      const failing = Object.create(store) as KyselyDatasetStore;
      failing.appendVersion = () => Promise.reject(new Error('database went away'));
      const broken = new DatasetService(failing, blobs);
      const before = await blobKeys();
      const csv = join(dir, 'fresh.csv');
      await writeFile(csv, 'a,b\n1,x\n2,y\n');
      await assert.rejects(broken.ingestVersion(ctx, 'weather', { path: csv }), /database went away/);
      assert.deepEqual(await blobKeys(), before);
      // A blob that already existed is shared with recorded versions and must survive.
      await assert.rejects(broken.ingestVersion(ctx, 'weather', { path: PENGUINS_JSON }), /database went away/);
      assert.deepEqual(await blobKeys(), before);
    });
  });
}
