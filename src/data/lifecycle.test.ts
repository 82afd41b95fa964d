import assert from 'node:assert/strict';
import { createReadStream } from 'node:fs';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { text } from 'node:stream/consumers';
import { after, before, describe, it } from 'node:test';
import { pathToFileURL } from 'node:url';
import { KilnError, silentLogger, systemContext } from '../core/index.js';
import { type BlobStore, type Database, migrate, openBlobStore } from '../store/index.js';
import { type DatabaseTarget, type TestDatabase, testDatabases } from '../store/testing/databases.js';
import { S3RVER_CREDENTIALS, startS3rver } from '../store/testing/s3.js';
import { DATA_MIGRATIONS } from './migrations.js';
import { DatasetService } from './service.js';
import { KyselyDatasetStore } from './store/kysely.js';
import { SuiteService } from './suites.js';
import { duckdbAnswer, PENGUINS_JSON, SEATTLE_CSV } from './testing/fixtures.js';

const ctx = systemContext('test');

interface Backend {
  name: string;
  database: DatabaseTarget;
  blobs(dir: string): Promise<{ store: BlobStore; stop(): Promise<void> }>;
}

const [sqlite, postgres] = await testDatabases();
const backends: Backend[] = [
  {
    name: 'SQLite + file blobs',
    database: sqlite as DatabaseTarget,
    blobs: async (dir) => ({
      store: openBlobStore({ url: pathToFileURL(join(dir, 'blobs')).href }),
      stop: async () => {},
    }),
  },
  {
    name: 'PostgreSQL + S3',
    database: postgres as DatabaseTarget,
    blobs: async () => {
      const s3 = await startS3rver();
      const store = openBlobStore({
        url: `s3://${s3.bucket}/kiln`,
        s3Endpoint: s3.endpoint,
        credentials: S3RVER_CREDENTIALS,
      });
      return { store, stop: () => s3.stop() };
    },
  },
];

/** Every temp directory whose name starts with `prefix`, to prove a failure left none behind. */
async function tempDirs(prefix: string): Promise<string[]> {
  return (await readdir(tmpdir())).filter((name) => name.startsWith(prefix)).sort();
}

for (const backend of backends) {
  describe(`data lifecycle on ${backend.name}`, { skip: backend.database.skip }, () => {
    let db: TestDatabase;
    let database: Database;
    let blobs: BlobStore;
    let stopBlobs: () => Promise<void>;
    let datasets: DatasetService;
    let suites: SuiteService;
    let dir: string;

    before(async () => {
      dir = await mkdtemp(join(tmpdir(), 'kiln-data-lifecycle-'));
      db = await backend.database.create();
      database = await db.open();
      assert.equal((await migrate(database, DATA_MIGRATIONS, silentLogger())).error, undefined);
      const opened = await backend.blobs(dir);
      blobs = opened.store;
      stopBlobs = opened.stop;
      const store = new KyselyDatasetStore(database);
      datasets = new DatasetService(store, blobs, { cacheDir: join(dir, 'cache') });
      suites = new SuiteService(store);
    });
    after(async () => {
      await blobs.close();
      await stopBlobs();
      await db.cleanup();
      await rm(dir, { recursive: true, force: true });
    });

    const blobKeys = async () => (await blobs.list('datasets/')).items.map((item) => item.key).sort();

    it('should stream an upload to the same digest and blob as ingesting the file by path', async () => {
      await datasets.create(ctx, { name: 'weather' });
      const byPath = await datasets.ingestVersion(ctx, 'weather', { path: SEATTLE_CSV });
      const keys = await blobKeys();
      const uploaded = await datasets.ingestUpload(ctx, 'weather', {
        body: createReadStream(SEATTLE_CSV),
        filename: 'seattle-weather.csv',
        maxBytes: 10_000_000,
      });
      assert.equal(uploaded.version, 2);
      assert.equal(uploaded.digest, byPath.digest);
      assert.equal(uploaded.sourceKind, 'upload');
      assert.equal(uploaded.source, 'seattle-weather.csv');
      assert.deepEqual(uploaded.schema, byPath.schema);
      assert.deepEqual(await blobKeys(), keys, 'identical content stores no new bytes');
    });

    it('should refuse an upload past the limit and leave no version, blob or temp file', async () => {
      const before = await tempDirs('kiln-upload-');
      const keys = await blobKeys();
      await assert.rejects(
        datasets.ingestUpload(ctx, 'weather', {
          body: createReadStream(SEATTLE_CSV),
          filename: 'seattle-weather.csv',
          maxBytes: 1000,
        }),
        (err: unknown) => err instanceof KilnError && err.code === 'PAYLOAD_TOO_LARGE' && err.details?.field === 'file',
      );
      assert.equal((await datasets.listVersions(ctx, 'weather')).length, 2);
      assert.deepEqual(await blobKeys(), keys);
      assert.deepEqual(await tempDirs('kiln-upload-'), before);
    });

    it('should derive a version by SQL over earlier versions, with lineage to them', async () => {
      const v = await datasets.derive(ctx, 'rainy', {
        sql: "select date, precipitation from dataset('weather', 1) where weather = 'rain' -- only rain",
      });
      const [expected] = await duckdbAnswer(
        `select count(*) as n from read_csv('${SEATTLE_CSV}') where weather = 'rain'`,
      );
      assert.equal(v.rowCount, Number(expected?.n));
      assert.equal(v.sourceKind, 'sql');
      assert.deepEqual(
        v.schema.columns.map((c) => [c.name, c.logicalType]),
        [
          ['date', 'datetime'],
          ['precipitation', 'float'],
        ],
      );
      assert.deepEqual(v.inputs, [{ dataset: 'weather', version: 1, role: 'sql' }]);
      // `dataset('weather')` is the latest version; the same result bytes give the same digest.
      const latest = await datasets.derive(ctx, 'rainy', {
        sql: "select date, precipitation from dataset('weather') where weather = 'rain'",
      });
      assert.equal(latest.digest, v.digest);
      assert.deepEqual(latest.inputs, [{ dataset: 'weather', version: 2, role: 'sql' }]);
      const lineage = await datasets.lineage(ctx, 'weather', 1);
      assert.deepEqual(lineage.edges, [
        { from: { dataset: 'weather', version: 1 }, to: { dataset: 'rainy', version: 1 }, role: 'sql' },
      ]);
    });

    it('should confine derive SQL to the versions it names', async () => {
      const attempts = [
        "select * from read_csv('/etc/passwd'), dataset('weather', 1)",
        "select * from dataset('weather', 1); copy (select 1) to '/tmp/kiln-escape.csv'",
        "select * from dataset('weather', 1) where 1 = (select count(*) from read_parquet('/tmp/*.parquet'))",
        "attach '/tmp/kiln-escape.db' as x; select * from dataset('weather', 1)",
      ];
      for (const sql of attempts) {
        await assert.rejects(
          datasets.derive(ctx, 'escape', { sql }),
          (err: unknown) =>
            err instanceof KilnError && err.code === 'INVALID_PARAMETER_VALUE' && err.details?.field === 'sql',
          sql,
        );
      }
      await assert.rejects(datasets.derive(ctx, 'escape', { sql: 'select 1' }), /at least one dataset/);
      await assert.rejects(datasets.derive(ctx, 'escape', { sql: "select * from dataset('weather', 9)" }), {
        code: 'RESOURCE_DOES_NOT_EXIST',
      });
      await assert.rejects(datasets.derive(ctx, 'escape', { sql: "select * from dataset('nobody')" }), {
        code: 'RESOURCE_DOES_NOT_EXIST',
      });
      await assert.rejects(datasets.derive(ctx, 'escape', { sql: "select nope from dataset('weather', 1)" }), /nope/);
    });

    it('should split by time into reproducible versions with lineage back to the source', async () => {
      const spec = { method: 'time', column: 'date', fractions: { train: 0.8, validation: 0.1, test: 0.1 } };
      const parts = await datasets.split(ctx, 'weather', 1, spec);
      assert.deepEqual(
        [parts.train?.rowCount, parts.validation?.rowCount, parts.test?.rowCount].reduce((a, b) => (a ?? 0) + (b ?? 0)),
        1461,
      );
      assert.deepEqual(parts.train?.inputs, [{ dataset: 'weather', version: 1, role: 'split:train' }]);
      const train = await datasets.preview(ctx, 'weather.train', 1, { offset: 0, limit: 1000 });
      const test = await datasets.preview(ctx, 'weather.test', 1, { limit: 1 });
      const lastTrain = String(train.rows.at(-1)?.date ?? '');
      assert.ok(lastTrain < String(test.rows[0]?.date), 'train ends before test starts');
      const again = await datasets.split(ctx, 'weather', 1, spec);
      assert.equal(again.test?.digest, parts.test?.digest);
      assert.equal(again.test?.version, 2);
      const lineage = await datasets.lineage(ctx, 'weather.test', 1);
      assert.deepEqual(lineage.edges, [
        { from: { dataset: 'weather', version: 1 }, to: { dataset: 'weather.test', version: 1 }, role: 'split:test' },
      ]);
    });

    it('should validate on ingest: error-level failures reject with a report, warn-level ones annotate', async () => {
      await datasets.create(ctx, { name: 'penguins' });
      const suite = await suites.save(ctx, {
        format: 'yaml',
        text: [
          'name: penguins-basic',
          'expectations:',
          '  - type: row_count_between',
          '    min: 300',
          '  - type: in_set',
          '    column: Species',
          '    values: [Adelie, Gentoo, Chinstrap]',
          '  - type: not_null',
          '    column: Sex',
          '    level: warn',
        ].join('\n'),
      });
      assert.equal(suite.version, 1);
      await datasets.attachSuite(ctx, 'penguins', { name: 'penguins-basic' });
      const v1 = await datasets.ingestVersion(ctx, 'penguins', { path: PENGUINS_JSON });
      assert.equal(v1.validation?.success, true);
      assert.equal(v1.validation?.warnings, 1, 'sex has nulls: a warning, not a rejection');
      assert.equal((await datasets.getVersion(ctx, 'penguins', 1)).validation?.warnings, 1);

      // A faulty copy: two unknown species.
      const faulty = join(dir, 'penguins-faulty.json');
      const rows = JSON.parse(await text(createReadStream(PENGUINS_JSON))) as Record<string, unknown>[];
      (rows[0] as Record<string, unknown>).Species = 'Dodo';
      (rows[5] as Record<string, unknown>).Species = 'Dodo';
      await writeFile(faulty, JSON.stringify(rows));
      const keys = await blobKeys();
      const rejection = await datasets.ingestVersion(ctx, 'penguins', { path: faulty }).then(
        () => assert.fail('a failing suite must reject the version'),
        (err: unknown) => err,
      );
      assert.ok(rejection instanceof KilnError);
      assert.equal(rejection.code, 'VALIDATION_FAILED');
      const report = rejection.details?.report as {
        results: { type: string; unexpected_count?: number; unexpected_examples?: unknown[] }[];
      };
      const inSet = report.results.find((r) => r.type === 'in_set');
      assert.equal(inSet?.unexpected_count, 2);
      assert.deepEqual(inSet?.unexpected_examples, ['Dodo']);
      assert.equal((await datasets.listVersions(ctx, 'penguins')).length, 1, 'nothing recorded');
      assert.deepEqual(await blobKeys(), keys, 'no orphan blob');

      // The same report on demand, without recording anything.
      const onDemand = await datasets.validate(ctx, 'penguins', 1, suite.definition);
      assert.equal(onDemand.success, true);
      await datasets.detachSuite(ctx, 'penguins');
      assert.equal((await datasets.ingestVersion(ctx, 'penguins', { path: faulty })).version, 2);
    });

    it('should mask flagged PII when deriving, and preview and download the result', async () => {
      await datasets.create(ctx, { name: 'people' });
      const csv = join(dir, 'people.csv');
      const lines = ['id,email,city'];
      for (let i = 0; i < 40; i++) lines.push(`${i},user${i}@example.org,${i % 2 === 0 ? 'Oslo' : 'Lima'}`);
      await writeFile(csv, `${lines.join('\n')}\n`);
      await datasets.ingestVersion(ctx, 'people', { path: csv });
      const scan = await datasets.scanPii(ctx, 'people', 1);
      assert.deepEqual(
        scan.columns.filter((c) => c.flagged).map((c) => [c.column, c.kind]),
        [['email', 'email']],
      );
      const masked = await datasets.derive(ctx, 'people-masked', {
        sql: "select * from dataset('people', 1)",
        pii: { action: 'mask' },
      });
      const page = await datasets.preview(ctx, 'people-masked', masked.version, { offset: 10, limit: 5 });
      assert.equal(page.total, 40);
      assert.equal(page.rows.length, 5);
      assert.equal(page.rows[0]?.id, 10);
      assert.doesNotMatch(String(page.rows[0]?.email), /user10@example/);
      const download = await datasets.download(ctx, 'people-masked', masked.version, 'csv');
      const body = await text(download.stream);
      assert.equal(body.trim().split('\n').length, 41);
      assert.match(download.contentType, /text\/csv/);
      assert.doesNotMatch(body, /@example\.org/);
      await assert.rejects(datasets.preview(ctx, 'people', 1, { limit: 100_000 }), { code: 'INVALID_PARAMETER_VALUE' });
    });
  });
}
