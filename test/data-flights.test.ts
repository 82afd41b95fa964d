/**
 * The data issue's acceptance run on real data: `kiln data ingest` of flights-3m.parquet, of a CSV
 * export of it and of penguins.json, checked against DuckDB's own answers; identical content gives
 * identical digests; a time split shows lineage back to its source; a suite passes on the real
 * flights and rejects a version with injected faults with the right unexpected counts.
 */
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type CliRun, runCli } from '../src/cli/testing/run.js';
import { KilnError } from '../src/core/index.js';
import { duckdbAnswer, PENGUINS_JSON, VEGA_DATA } from '../src/data/testing/fixtures.js';
import { type DatasetProfile, type DatasetVersion, KilnClient } from '../src/sdk/index.js';
import { type ChildServer, startChildServer } from '../src/sdk/testing/server.js';

const FLIGHTS = `${VEGA_DATA}flights-3m.parquet`;

let server: ChildServer;
let kiln: KilnClient;
let scratch: string;

function kilnCli(args: string[]): CliRun {
  return runCli([...args, '--json'], server.url, { timeoutMs: 300_000 });
}

function ingest(file: string, name: string, extra: string[] = []): DatasetVersion {
  const run = kilnCli(['data', 'ingest', file, '--name', name, ...extra]);
  assert.equal(run.code, 0, `kiln data ingest ${file}: ${run.stderr}`);
  return (JSON.parse(run.stdout) as { version: DatasetVersion }).version;
}

/** Checks a profile's statistics of the flights columns against DuckDB reading `source` directly. */
async function assertFlightsProfile(profile: DatasetProfile, source: string): Promise<void> {
  const [truth] = await duckdbAnswer(
    `select count(*) as n, min(delay) as dmin, max(delay) as dmax, avg(delay) as dmean, stddev_samp(delay) as dstd,
       quantile_cont(delay, 0.5) as dp50, quantile_cont(distance, 0.95) as sp95, approx_count_distinct(origin) as origins,
       min(date)::varchar as first, max(date)::varchar as last from ${source}`,
  );
  const [busiest] = await duckdbAnswer(
    `select origin, count(*) as n from ${source} group by origin order by n desc, origin limit 1`,
  );
  assert.equal(profile.row_count, Number(truth?.n));
  const delay = profile.columns.delay;
  assert.ok(delay?.kind === 'numeric');
  assert.equal(delay.min, Number(truth?.dmin));
  assert.equal(delay.max, Number(truth?.dmax));
  assert.ok(Math.abs((delay.mean ?? 0) - Number(truth?.dmean)) < 1e-9);
  assert.ok(Math.abs((delay.std ?? 0) - Number(truth?.dstd)) < 1e-9);
  assert.equal(delay.quantiles?.p50, Number(truth?.dp50));
  assert.equal(
    delay.histogram?.counts.reduce((a, b) => a + b),
    Number(truth?.n),
  );
  const distance = profile.columns.distance;
  assert.ok(distance?.kind === 'numeric');
  assert.equal(distance.quantiles?.p95, Number(truth?.sp95));
  const origin = profile.columns.origin;
  assert.ok(origin?.kind === 'categorical');
  assert.deepEqual(origin.top[0], { value: String(busiest?.origin), count: Number(busiest?.n) });
  // DuckDB's HyperLogLog estimate (254 for the 229 airports), the same on both sides.
  assert.equal(origin.distinct, Number(truth?.origins));
  const date = profile.columns.date;
  assert.ok(date?.kind === 'datetime');
  assert.equal(date.min, String(truth?.first).replace(' ', 'T'));
  assert.equal(date.max, String(truth?.last).replace(' ', 'T'));
}

describe('flights-3m, a CSV export of it and penguins through kiln data', () => {
  before(async () => {
    server = await startChildServer();
    kiln = new KilnClient({ baseUrl: server.url });
    scratch = await mkdtemp(join(tmpdir(), 'kiln-flights-'));
  });
  after(async () => {
    await server?.stop();
    if (scratch !== undefined) await rm(scratch, { recursive: true, force: true });
  });

  it('ingests flights-3m.parquet with the right schema and profile, and again to the same digest', async () => {
    const v1 = ingest(FLIGHTS, 'flights');
    assert.equal(v1.row_count, 3_000_000);
    assert.deepEqual(
      v1.schema.columns.map((c) => [c.name, c.logical_type, c.nullable]),
      [
        ['date', 'datetime', false],
        ['delay', 'integer', false],
        ['distance', 'integer', false],
        ['origin', 'string', false],
        ['destination', 'string', false],
      ],
    );
    await assertFlightsProfile(await kiln.data.profile('flights', 1), `read_parquet('${FLIGHTS}')`);
    const v2 = ingest(FLIGHTS, 'flights');
    assert.equal(v2.version, 2);
    assert.equal(v2.digest, v1.digest);
  });

  it('ingests a CSV export of flights to the same schema and statistics', async () => {
    const csv = join(scratch, 'flights-3m.csv');
    await duckdbAnswer(`copy (select * from read_parquet('${FLIGHTS}')) to '${csv}' (header true)`);
    const v = ingest(csv, 'flights-csv');
    assert.equal(v.format, 'csv');
    assert.equal(v.row_count, 3_000_000);
    assert.deepEqual(
      v.schema.columns.map((c) => [c.name, c.logical_type]),
      [
        ['date', 'datetime'],
        ['delay', 'integer'],
        ['distance', 'integer'],
        ['origin', 'string'],
        ['destination', 'string'],
      ],
    );
    await assertFlightsProfile(await kiln.data.profile('flights-csv', 1), `read_parquet('${FLIGHTS}')`);
    const parquet = await kiln.data.getVersion('flights', 1);
    assert.notEqual(v.digest, parquet.digest, 'other bytes, other digest');
  });

  it('ingests penguins.json with nullable columns and a categorical domain', async () => {
    const v = ingest(PENGUINS_JSON, 'penguins');
    const [truth] = await duckdbAnswer(
      `select count(*) as n, count(*) - count("Beak Length (mm)") as beak_nulls, avg("Body Mass (g)") as mass
       from read_json_auto('${PENGUINS_JSON}')`,
    );
    assert.equal(v.row_count, Number(truth?.n));
    const species = v.schema.columns.find((c) => c.name === 'Species');
    assert.deepEqual(species?.domain, ['Adelie', 'Chinstrap', 'Gentoo']);
    assert.equal(v.schema.columns.find((c) => c.name === 'Beak Length (mm)')?.nullable, true);
    const profile = await kiln.data.profile('penguins', 1);
    assert.equal(profile.columns['Beak Length (mm)']?.nulls, Number(truth?.beak_nulls));
    const mass = profile.columns['Body Mass (g)'];
    assert.ok(mass?.kind === 'numeric');
    assert.ok(Math.abs((mass.mean ?? 0) - Number(truth?.mass)) < 1e-9);
  });

  it('splits flights by time into versions whose lineage leads back to the source', async () => {
    const run = kilnCli(['data', 'split', 'flights', '1', '--method', 'time', '--column', 'date']);
    assert.equal(run.code, 0, run.stderr);
    const parts = JSON.parse(run.stdout) as Record<'train' | 'validation' | 'test', DatasetVersion>;
    assert.equal(parts.train.row_count + parts.validation.row_count + parts.test.row_count, 3_000_000);
    const trainEnd = (await kiln.data.profile('flights.train', 1)).columns.date;
    const testStart = (await kiln.data.profile('flights.test', 1)).columns.date;
    assert.ok(trainEnd?.kind === 'datetime' && testStart?.kind === 'datetime');
    assert.ok(String(trainEnd.max) <= String(testStart.min));
    const lineage = kilnCli(['data', 'lineage', 'flights.test', '1']);
    assert.equal(lineage.code, 0, lineage.stderr);
    const graph = (JSON.parse(lineage.stdout) as { lineage: { edges: { from: string; to: string; role: string }[] } })
      .lineage;
    assert.deepEqual(graph.edges, [{ from: 'dataset:flights@1', to: 'dataset:flights.test@1', role: 'split:test' }]);
  });

  it('passes a suite on the real flights and rejects a faulted version with the right counts', async () => {
    const airports = (
      await duckdbAnswer(
        `select distinct origin as a from read_parquet('${FLIGHTS}') union select destination from read_parquet('${FLIGHTS}')`,
      )
    ).map((row) => String(row.a));
    const suiteFile = join(scratch, 'flights-checks.yaml');
    await writeFile(
      suiteFile,
      [
        'name: flights-checks',
        'expectations:',
        '  - type: between',
        '    column: delay',
        '    min: -1200',
        '    max: 1800',
        '  - type: in_set',
        '    column: origin',
        `    values: [${airports.join(', ')}]`,
        '  - type: not_null',
        '    column: destination',
      ].join('\n'),
    );
    const passing = kilnCli(['data', 'validate', 'flights', '1', '--suite', suiteFile]);
    assert.equal(passing.code, 0, passing.stderr + passing.stdout);
    await kiln.data.saveSuite({ yaml: await readFile(suiteFile, 'utf8') });
    await kiln.data.attachSuite('flights', 'flights-checks');
    // Seven impossible delays and three unknown airports.
    const injected = `select date, case when rn <= 7 then 5000 else delay end as delay, distance,
        case when rn between 8 and 10 then 'XXX' else origin end as origin, destination
      from (select *, row_number() over () as rn from dataset('flights', 1))`;
    const rejection = await kiln.data.derive('flights', injected).then(
      () => assert.fail('the faulted version must be rejected'),
      (err: unknown) => err,
    );
    assert.ok(rejection instanceof KilnError);
    assert.equal(rejection.code, 'VALIDATION_FAILED');
    const report = rejection.details?.report as {
      results: { type: string; unexpected_count?: number; unexpected_examples?: unknown[] }[];
    };
    const byType = new Map(report.results.map((r) => [r.type, r]));
    assert.equal(byType.get('between')?.unexpected_count, 7);
    assert.deepEqual(byType.get('between')?.unexpected_examples, [5000]);
    assert.equal(byType.get('in_set')?.unexpected_count, 3);
    assert.deepEqual(byType.get('in_set')?.unexpected_examples, ['XXX']);
    assert.equal(byType.get('not_null')?.unexpected_count, 0);
    assert.equal((await kiln.data.listVersions('flights')).length, 2, 'nothing recorded');
  });
});
