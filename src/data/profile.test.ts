import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { pathToFileURL } from 'node:url';
import { DuckDBInstance } from '@duckdb/node-api';
import { silentLogger, systemContext } from '../core/index.js';
import { type BlobStore, type Database, migrate, nowIso, openBlobStore } from '../store/index.js';
import { type TestDatabase, testDatabases } from '../store/testing/databases.js';
import { ingestFile } from './ingest.js';
import { DATA_MIGRATIONS } from './migrations.js';
import type { ColumnProfile, DatasetProfile } from './model.js';
import { HISTOGRAM_BINS, profileParquet, TOP_K } from './profile.js';
import { inferSchema, quoteIdent } from './schema.js';
import { DatasetService } from './service.js';
import { KyselyDatasetStore } from './store/kysely.js';
import { duckdbAnswer, PENGUINS_JSON, SEATTLE_CSV } from './testing/fixtures.js';

/** Equal within 1e-9 relative: the profile and the independent query may sum in another order. */
function close(actual: unknown, expected: unknown, label: string): void {
  if (expected === null) {
    assert.equal(actual, null, label);
    return;
  }
  const [a, e] = [Number(actual), Number(expected)];
  assert.ok(Math.abs(a - e) <= 1e-9 * Math.max(1, Math.abs(e)), `${label}: ${a} vs ${e}`);
}

/** Checks every figure of `profile` against DuckDB answering plain SQL over the source file itself. */
async function assertProfileMatches(profile: DatasetProfile, reader: string): Promise<void> {
  const [total] = await duckdbAnswer(`select count(*) as n from ${reader}`);
  assert.equal(profile.rowCount, Number(total?.n));
  for (const [name, column] of Object.entries(profile.columns)) {
    const id = quoteIdent(name);
    const [truth] = await duckdbAnswer(
      `select count(${id}) as c, count(*) - count(${id}) as n, approx_count_distinct(${id}) as d,
        min(${id})::varchar as mn, max(${id})::varchar as mx, ${
          column.kind === 'numeric'
            ? `avg(${id}::double) as av, stddev_samp(${id}::double) as sd,
               quantile_cont(${id}::double, [0.01, 0.05, 0.25, 0.5, 0.75, 0.95, 0.99]) as q`
            : 'null as av'
        } from ${reader}`,
    );
    assert.ok(truth);
    assert.equal(column.count, Number(truth.c), `${name} count`);
    assert.equal(column.nulls, Number(truth.n), `${name} nulls`);
    assert.equal(column.distinct, Math.min(Number(truth.d), column.count), `${name} distinct`);
    if (column.kind === 'numeric') {
      close(column.min, truth.mn, `${name} min`);
      close(column.max, truth.mx, `${name} max`);
      close(column.mean, truth.av, `${name} mean`);
      close(column.std, truth.sd, `${name} std`);
      const q = truth.q as number[];
      assert.ok(column.quantiles);
      for (const [j, value] of Object.values(column.quantiles).entries()) close(value, q[j], `${name} q${j}`);
      assert.ok(column.histogram);
      assert.equal(column.histogram.counts.length, HISTOGRAM_BINS);
      assert.equal(
        column.histogram.counts.reduce((s, n) => s + n, 0),
        column.count,
      );
      // The extremes fall in the first and last bins, so neither can be empty.
      assert.ok((column.histogram.counts[0] ?? 0) > 0 && (column.histogram.counts.at(-1) ?? 0) > 0, name);
    } else if (column.kind === 'datetime') {
      assert.equal(column.min, String(truth.mn).replace(' ', 'T'), `${name} min`);
      assert.equal(column.max, String(truth.mx).replace(' ', 'T'), `${name} max`);
    } else {
      const top = await duckdbAnswer(
        `select ${id}::varchar as value, count(*) as count from ${reader} where ${id} is not null
         group by all order by count desc, value limit ${TOP_K}`,
      );
      assert.deepEqual(
        column.top,
        top.map((row) => ({ value: row.value, count: Number(row.count) })),
        name,
      );
      assert.equal(column.other + column.top.reduce((s, e) => s + e.count, 0), column.count);
    }
  }
}

function numeric(profile: DatasetProfile, name: string): Extract<ColumnProfile, { kind: 'numeric' }> {
  const column = profile.columns[name];
  assert.equal(column?.kind, 'numeric', name);
  return column as Extract<ColumnProfile, { kind: 'numeric' }>;
}

describe('profileParquet on real data', () => {
  it('should match DuckDB on every penguins.json figure', async () => {
    const file = await ingestFile(PENGUINS_JSON);
    try {
      await assertProfileMatches(file.profile, `read_json_auto('${PENGUINS_JSON}')`);
      const species = file.profile.columns.Species;
      assert.equal(species?.kind, 'categorical');
      assert.deepEqual(species.kind === 'categorical' && species.top, [
        { value: 'Adelie', count: 152 },
        { value: 'Gentoo', count: 124 },
        { value: 'Chinstrap', count: 68 },
      ]);
      assert.equal(numeric(file.profile, 'Flipper Length (mm)').min, 172);
      assert.equal(numeric(file.profile, 'Body Mass (g)').nulls, 2);
    } finally {
      await file.dispose();
    }
  });

  it('should match DuckDB on every seattle-weather.csv figure, dates as ISO strings', async () => {
    const file = await ingestFile(SEATTLE_CSV);
    try {
      await assertProfileMatches(file.profile, `read_csv('${SEATTLE_CSV}')`);
      const date = file.profile.columns.date;
      assert.deepEqual(date?.kind === 'datetime' && [date.min, date.max], ['2012-01-01', '2015-12-31']);
    } finally {
      await file.dispose();
    }
  });
});

describe('profileParquet edge cases', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'kiln-profile-test-'));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it('should give a constant column one bin, an all-null column nulls, and huge BIGINTs as strings', async () => {
    const path = join(dir, 'edge.parquet');
    const instance = await DuckDBInstance.create(':memory:');
    const connection = await instance.connect();
    try {
      await connection.run(
        `copy (select 7 as k, null::double as n, null::varchar as s, 9007199254740993::bigint + i as big,
          timestamp '2020-01-01 10:00:00' + to_days(i::integer) as t,
          i::double as b, 'x' || (i % 2) as v from range(5) r(i)) to '${path}' (format parquet)`,
      );
      const relation = `read_parquet('${path}')`;
      const profile = await profileParquet(connection, path, await inferSchema(connection, relation, 5));
      const k = numeric(profile, 'k');
      assert.deepEqual([k.min, k.max, k.mean, k.std, k.quantiles?.p50], [7, 7, 7, 0, 7]);
      assert.deepEqual(k.histogram, { min: 7, max: 7, width: 0, counts: [5] });
      const n = numeric(profile, 'n');
      assert.deepEqual(
        [n.count, n.nulls, n.distinct, n.min, n.mean, n.std, n.histogram],
        [0, 5, 0, null, null, null, null],
      );
      assert.deepEqual(profile.columns.s, {
        kind: 'categorical',
        logicalType: 'string',
        count: 0,
        nulls: 5,
        distinct: 0,
        top: [],
        other: 0,
      });
      const big = numeric(profile, 'big');
      assert.deepEqual([big.min, big.max], ['9007199254740993', '9007199254740997']);
      const t = profile.columns.t;
      assert.deepEqual(t?.kind === 'datetime' && [t.min, t.max], ['2020-01-01T10:00:00', '2020-01-05T10:00:00']);
      // Columns named like the profiler's own aliases must not confuse its GROUP BY.
      assert.deepEqual(
        numeric(profile, 'b').histogram?.counts.filter((c) => c > 0),
        [1, 1, 1, 1, 1],
      );
      const v = profile.columns.v;
      assert.deepEqual(v?.kind === 'categorical' && v.top, [
        { value: 'x0', count: 3 },
        { value: 'x1', count: 2 },
      ]);
      assert.ok(!JSON.stringify(profile).includes('NaN'));
    } finally {
      connection.closeSync();
      instance.closeSync();
    }
  });
});

const [sqlite] = await testDatabases();
describe('DatasetService.getProfile on sqlite', () => {
  let db: TestDatabase;
  let database: Database;
  let blobs: BlobStore;
  let dir: string;
  const ctx = systemContext('test');

  before(async () => {
    assert.equal(sqlite?.name, 'sqlite');
    dir = await mkdtemp(join(tmpdir(), 'kiln-profile-service-'));
    db = await sqlite.create();
    database = await db.open();
    assert.equal((await migrate(database, DATA_MIGRATIONS, silentLogger())).error, undefined);
    blobs = openBlobStore({ url: pathToFileURL(join(dir, 'blobs')).href });
  });
  after(async () => {
    await blobs.close();
    await db.cleanup();
    await rm(dir, { recursive: true, force: true });
  });

  it('should store the profile with the version and refuse versions without one', async () => {
    const store = new KyselyDatasetStore(database);
    const service = new DatasetService(store, blobs);
    const dataset = await service.create(ctx, { name: 'penguins' });
    const v1 = await service.ingestVersion(ctx, 'penguins', { path: PENGUINS_JSON });
    const file = await ingestFile(PENGUINS_JSON);
    await file.dispose();
    assert.deepEqual(await service.getProfile(ctx, 'penguins', v1.version), file.profile);
    // A version recorded before profiles existed has none.
    const { version: _, ...rest } = v1;
    const bare = await store.appendVersion({ ...rest, inputs: [], datasetId: dataset.id, createdAt: nowIso() });
    await assert.rejects(service.getProfile(ctx, 'penguins', bare.version), { code: 'RESOURCE_DOES_NOT_EXIST' });
    await assert.rejects(service.getProfile(ctx, 'penguins', 99), { code: 'RESOURCE_DOES_NOT_EXIST' });
  });
});
