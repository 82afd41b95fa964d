import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { pathToFileURL } from 'node:url';
import { KilnError, silentLogger, systemContext } from '../core/index.js';
import { type BlobStore, type Database, migrate, openBlobStore } from '../store/index.js';
import { type TestDatabase, testDatabases } from '../store/testing/databases.js';
import type { AppendColumnsInput } from './append-columns.js';
import type { ColumnarTable } from './columns.js';
import { DATA_MIGRATIONS } from './migrations.js';
import { stepProvenance } from './provenance.js';
import { DatasetService } from './service.js';
import { KyselyDatasetStore } from './store/kysely.js';
import { SuiteService } from './suites.js';
import { SEATTLE_CSV } from './testing/fixtures.js';

const ctx = systemContext('test');
const [sqlite] = await testDatabases();

type Column = ColumnarTable['columns'][number];

function named(table: ColumnarTable, name: string): Column {
  const found = table.columns.find((c) => c.name === name);
  assert.ok(found, `no column ${name}`);
  return found;
}

/** A column's values as plain numbers or labels, for comparing across differently encoded reads. */
function plain(column: Column): (number | string | null)[] {
  if (column.kind !== 'categorical') return Array.from(column.values);
  return Array.from(column.codes, (code) => (code < 0 ? null : (column.dictionary[code] as string)));
}

describe('DatasetService.appendColumns (SQLite, file blobs, seattle-weather)', () => {
  let db: TestDatabase;
  let database: Database;
  let blobs: BlobStore;
  let dir: string;
  let datasets: DatasetService;
  let suites: SuiteService;

  /** Adds the day's temperature range, and a category computed from the weather, replacing `weather`. */
  const input = (overrides: Partial<AppendColumnsInput> = {}): AppendColumnsInput => ({
    dataset: 'seattle',
    version: 1,
    read: [
      { name: 'date', kind: 'datetime' },
      { name: 'temp_max', kind: 'float' },
      { name: 'temp_min', kind: 'float' },
      { name: 'weather', kind: 'categorical' },
    ],
    chunkRows: 500,
    append: [
      { name: 'range', type: 'double' },
      { name: 'WEATHER', type: 'category', categories: ['dry', 'wet'] },
    ],
    role: 'test:range',
    provenance: { step: 'range', params: { unit: 'C' } },
    async compute(chunk) {
      const max = named(chunk, 'temp_max');
      const min = named(chunk, 'temp_min');
      const weather = plain(named(chunk, 'weather'));
      assert.ok(max.kind === 'float' && min.kind === 'float');
      return [
        Float64Array.from(max.values, (v, i) => v - (min.values[i] as number)),
        Int32Array.from(weather, (w) => (w === null ? -1 : w === 'rain' || w === 'drizzle' ? 1 : 0)),
      ];
    },
    ...overrides,
  });

  before(async () => {
    if (sqlite === undefined) throw new Error('no SQLite target');
    db = await sqlite.create();
    database = await db.open();
    const report = await migrate(database, DATA_MIGRATIONS, silentLogger());
    assert.equal(report.error, undefined);
    dir = await mkdtemp(join(tmpdir(), 'kiln-append-test-'));
    blobs = openBlobStore({ url: pathToFileURL(join(dir, 'blobs')).href });
    const store = new KyselyDatasetStore(database);
    datasets = new DatasetService(store, blobs, { cacheDir: join(dir, 'cache') });
    suites = new SuiteService(store);
    await datasets.create(ctx, { name: 'seattle' });
    await datasets.ingestVersion(ctx, 'seattle', { path: SEATTLE_CSV });
  });
  after(async () => {
    await blobs?.close();
    await db?.cleanup();
    await rm(dir, { recursive: true, force: true });
  });

  it('hands compute each chunk as typed arrays in file order and records input + computed columns with lineage', async () => {
    const seen: { offset: number; rows: number }[] = [];
    const progress: number[] = [];
    const base = input();
    const version = await datasets.appendColumns(ctx, 'seattle-range', {
      ...base,
      async compute(chunk, offset) {
        seen.push({ offset, rows: chunk.rows });
        return base.compute(chunk, offset);
      },
      onProgress: (p) => {
        progress.push(p.rows);
        assert.equal(p.totalRows, 1461);
        assert.equal(p.totalChunks, 3);
      },
    });
    assert.deepEqual(seen, [
      { offset: 0, rows: 500 },
      { offset: 500, rows: 500 },
      { offset: 1000, rows: 461 },
    ]);
    assert.deepEqual(progress, [500, 1000, 1461]);
    assert.equal(version.datasetName, 'seattle-range');
    assert.equal(version.rowCount, 1461);
    assert.deepEqual(
      version.schema.columns.map((c) => [c.name, c.logicalType]),
      [
        ['date', 'datetime'],
        ['precipitation', 'float'],
        ['temp_max', 'float'],
        ['temp_min', 'float'],
        ['wind', 'float'],
        ['range', 'float'],
        ['WEATHER', 'categorical'],
      ],
      "the computed WEATHER replaces 'weather' (names match ignoring case)",
    );
    assert.equal(version.sourceKind, 'step');
    assert.deepEqual(stepProvenance(version), { step: 'range', params: { unit: 'C' } });
    assert.deepEqual(version.inputs, [{ dataset: 'seattle', version: 1, role: 'test:range' }]);

    const original = await datasets.readColumns(ctx, 'seattle', 1);
    const made = await datasets.readColumns(ctx, 'seattle-range', 1);
    for (const name of ['date', 'precipitation', 'temp_max', 'temp_min', 'wind']) {
      assert.deepEqual(named(made, name), named(original, name), name);
    }
    const max = plain(named(original, 'temp_max')) as number[];
    const min = plain(named(original, 'temp_min')) as number[];
    assert.deepEqual(
      plain(named(made, 'range')),
      max.map((v, i) => v - (min[i] as number)),
    );
    assert.deepEqual(
      plain(named(made, 'WEATHER')),
      plain(named(original, 'weather')).map((w) => (w === 'rain' || w === 'drizzle' ? 'wet' : 'dry')),
    );
  });

  it('records nothing, not even the target dataset, when compute fails, the target suite fails or the work is aborted', async () => {
    await assert.rejects(
      datasets.appendColumns(ctx, 'seattle-broken', {
        ...input(),
        async compute(_chunk, offset) {
          if (offset === 500) throw new Error('no range today');
          return input().compute(_chunk, offset);
        },
      }),
      /no range today/,
    );
    const controller = new AbortController();
    controller.abort(new Error('stopped by the test'));
    await assert.rejects(
      datasets.appendColumns(ctx, 'seattle-broken', { ...input(), signal: controller.signal }),
      /stopped by the test/,
    );
    await assert.rejects(datasets.get(ctx, 'seattle-broken'), { code: 'RESOURCE_DOES_NOT_EXIST' });

    await datasets.create(ctx, { name: 'seattle-checked' });
    await suites.save(ctx, {
      definition: { name: 'small-ranges', expectations: [{ type: 'between', column: 'range', max: 5 }] },
    });
    await datasets.attachSuite(ctx, 'seattle-checked', { name: 'small-ranges' });
    await assert.rejects(datasets.appendColumns(ctx, 'seattle-checked', input()), { code: 'VALIDATION_FAILED' });
    assert.deepEqual(await datasets.listVersions(ctx, 'seattle-checked'), []);
  });

  it('refuses a missing column or one of the wrong type (400 naming it), and bad declarations, before reading', async () => {
    const refused = async (overrides: Partial<AppendColumnsInput>, field: string, pattern: RegExp) =>
      assert.rejects(datasets.appendColumns(ctx, 'seattle-x', input(overrides)), (err: unknown) => {
        assert.ok(err instanceof KilnError);
        assert.equal(err.status, 400, err.message);
        assert.equal(err.details?.field, field, err.message);
        assert.match(err.message, pattern);
        return true;
      });
    await refused({ read: [{ name: 'humidity', kind: 'float' }] }, 'read', /no column 'humidity'/);
    await refused(
      { read: [{ name: 'weather', kind: 'float' }] },
      'read',
      /'weather' is categorical; it is needed as numbers/,
    );
    await refused({ read: [{ name: 'wind', kind: 'datetime' }] }, 'read', /'wind' is float/);
    await refused({ chunkRows: 0 }, 'chunkRows', /1 to 1000000/);
    await refused(
      {
        append: [
          { name: 'x', type: 'double' },
          { name: 'X', type: 'double' },
        ],
      },
      'append[1].name',
      /unique ignoring case/,
    );
    await assert.rejects(datasets.appendColumns(ctx, 'seattle-x', input({ version: 2 })), {
      code: 'RESOURCE_DOES_NOT_EXIST',
      message: "dataset 'seattle' has no version 2",
    });
    await assert.rejects(datasets.get(ctx, 'seattle-x'), { code: 'RESOURCE_DOES_NOT_EXIST' });
  });
});
