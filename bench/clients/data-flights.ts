/**
 * One side of the data-flights benchmark, in its own process so its peak RSS is its own:
 * `kiln` ingests flights-3m.parquet through DatasetService (digest, typed Parquet copy, schema,
 * profile) and validates a 12-expectation suite; `duckdb` computes the same aggregates and checks
 * directly on the source file. Prints one JSON line: phase timings in ms and peak RSS in MB.
 */
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { DuckDBInstance } from '@duckdb/node-api';
import { silentLogger, systemContext } from '../../src/core/index.js';
import {
  DATA_MIGRATIONS,
  DatasetService,
  HISTOGRAM_BINS,
  KyselyDatasetStore,
  type SuiteDefinition,
  TOP_K,
} from '../../src/data/index.js';
import { migrate, openBlobStore, openDatabase } from '../../src/store/index.js';

const FLIGHTS = new URL('../../node_modules/vega-datasets/data/flights-3m.parquet', import.meta.url).pathname;

/** Twelve expectations a team would put on this data. */
export function flightsSuite(airports: string[]): SuiteDefinition {
  return {
    name: 'flights-bench',
    expectations: [
      { type: 'row_count_between', min: 1_000_000, max: 10_000_000 },
      { type: 'column_set_equals', columns: ['date', 'delay', 'distance', 'origin', 'destination'] },
      { type: 'not_null', column: 'date' },
      { type: 'not_null', column: 'origin' },
      // The real data holds 144 delays outside this range (early departures logged as -1116 and the like).
      { type: 'between', column: 'delay', min: -60, max: 1500, mostly: 0.9999 },
      { type: 'between', column: 'distance', min: 1, max: 6000 },
      { type: 'in_set', column: 'origin', values: airports },
      { type: 'in_set', column: 'destination', values: airports },
      { type: 'regex', column: 'origin', pattern: '[A-Z0-9]{3}' },
      { type: 'mean_between', column: 'delay', min: -10, max: 60 },
      { type: 'quantile_between', column: 'distance', quantile: 0.5, min: 100, max: 3000 },
      { type: 'null_proportion_below', column: 'delay', max: 0.01 },
    ],
  } as SuiteDefinition;
}

function peakRssMb(): number {
  const status = readFileSync('/proc/self/status', 'utf8');
  return Math.round(Number(/^VmHWM:\s+(\d+) kB/m.exec(status)?.[1] ?? 0) / 1024);
}

async function airportsOf(): Promise<string[]> {
  const instance = await DuckDBInstance.create(':memory:');
  const connection = await instance.connect();
  const rows = await connection.runAndReadAll(
    `select distinct origin as a from read_parquet('${FLIGHTS}') union select distinct destination from read_parquet('${FLIGHTS}') order by 1`,
  );
  const airports = rows.getRowObjectsJson().map((row) => String(row.a));
  connection.closeSync();
  instance.closeSync();
  return airports;
}

async function kiln(airports: string[]): Promise<Record<string, number>> {
  const dir = await mkdtemp(join(tmpdir(), 'kiln-bench-data-'));
  try {
    const database = await openDatabase(`sqlite://${join(dir, 'kiln.db')}`);
    await migrate(database, DATA_MIGRATIONS, silentLogger());
    const blobs = openBlobStore({ url: pathToFileURL(join(dir, 'blobs')).href });
    const service = new DatasetService(new KyselyDatasetStore(database), blobs, { cacheDir: join(dir, 'cache') });
    const ctx = systemContext('bench');
    await service.create(ctx, { name: 'flights' });
    const t0 = performance.now();
    const version = await service.ingestVersion(ctx, 'flights', { path: FLIGHTS });
    const ingestMs = performance.now() - t0;
    const t1 = performance.now();
    const report = await service.validate(ctx, 'flights', version.version, flightsSuite(airports));
    const suiteMs = performance.now() - t1;
    if (!report.success) throw new Error(`suite failed on the real data: ${JSON.stringify(report.results)}`);
    await blobs.close();
    await database.close();
    return { ingestMs, suiteMs, rows: version.rowCount, expectations: report.results.length, peakRssMb: peakRssMb() };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * The same aggregates and checks, written directly against the source file: count; per column
 * nulls and distinct estimate; numeric min / max / mean / std / 7 quantiles / histogram; top-k of
 * the strings; datetime extremes; then the suite's checks as one pass.
 */
async function duckdb(airports: string[]): Promise<Record<string, number>> {
  const instance = await DuckDBInstance.create(':memory:');
  const connection = await instance.connect();
  const src = `read_parquet('${FLIGHTS}')`;
  const t0 = performance.now();
  await connection.runAndReadAll(`describe select * from ${src}`);
  await connection.runAndReadAll(
    `select count(*), ${['date', 'delay', 'distance', 'origin', 'destination']
      .map((c) => `count(${c}), approx_count_distinct(${c})`)
      .join(', ')}, count(distinct origin), count(distinct destination), min(date), max(date) from ${src}`,
  );
  for (const c of ['delay', 'distance']) {
    const [stats] = (
      await connection.runAndReadAll(
        `select min(${c})::double lo, max(${c})::double hi, avg(${c}), stddev_samp(${c}), quantile_cont(${c}, [0.01,0.05,0.25,0.5,0.75,0.95,0.99]) from ${src}`,
      )
    ).getRowObjectsJson();
    const lo = Number(stats?.lo);
    const width = (Number(stats?.hi) - lo) / HISTOGRAM_BINS;
    await connection.runAndReadAll(
      `select least(floor((${c} - ${lo}) / ${width}), ${HISTOGRAM_BINS - 1}) b, count(*) from ${src} group by b`,
    );
  }
  for (const c of ['origin', 'destination']) {
    await connection.runAndReadAll(`select ${c}, count(*) n from ${src} group by ${c} order by n desc limit ${TOP_K}`);
  }
  const profileMs = performance.now() - t0;
  const set = airports.map((a) => `'${a}'`).join(',');
  const t1 = performance.now();
  await connection.runAndReadAll(
    `select count(*), count(*) - count(date), count(*) - count(origin),
       count(*) filter (where delay not between -60 and 1500), count(*) filter (where distance not between 1 and 6000),
       count(*) filter (where origin not in (${set})), count(*) filter (where destination not in (${set})),
       count(*) filter (where not regexp_full_match(origin, '[A-Z0-9]{3}')), avg(delay), quantile_cont(distance, 0.5),
       (count(*) - count(delay)) / count(*) from ${src}`,
  );
  const suiteMs = performance.now() - t1;
  connection.closeSync();
  instance.closeSync();
  return { profileMs, suiteMs, peakRssMb: peakRssMb() };
}

const side = process.argv[2];
const airports = await airportsOf();
const figures = side === 'kiln' ? await kiln(airports) : await duckdb(airports);
process.stdout.write(`${JSON.stringify(figures)}\n`);
