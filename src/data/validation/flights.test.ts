import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type DuckDBConnection, DuckDBInstance } from '@duckdb/node-api';
import type { DatasetSchema } from '../model.js';
import { inferSchema, quoteLiteral } from '../schema.js';
import { duckdbAnswer, VEGA_DATA } from '../testing/fixtures.js';
import { expect, suite } from './builder.js';
import type { SuiteDefinition } from './model.js';
import { runSuite, type ValidationInput } from './run.js';

const FLIGHTS = `read_parquet(${quoteLiteral(`${VEGA_DATA}flights-3m.parquet`)})`;
/** Every US airport by IATA code. */
const AIRPORTS = `read_csv(${quoteLiteral(`${VEGA_DATA}airports.csv`)})`;
/** Routes (origin, destination, count) from a different extract; a few 2001 airports are missing. */
const ROUTES = `read_csv(${quoteLiteral(`${VEGA_DATA}flights-airport.csv`)})`;
const RELATIONS: Record<string, string> = { airports: AIRPORTS, routes: ROUTES };

let instance: DuckDBInstance;
let connection: DuckDBConnection;
let schema: DatasetSchema;
let origins: string[];
let flights: SuiteDefinition;

const foreign = ({ dataset }: { dataset: string }) => RELATIONS[dataset] ?? dataset;

/** Sixteen checks a flights table should pass; the origins come from the file itself. */
function flightsSuite(airports: string[]): SuiteDefinition {
  return suite('flights', [
    expect.rowCountBetween({ min: 3_000_000, max: 3_000_000 }),
    expect.columnSetEquals(['date', 'delay', 'distance', 'origin', 'destination'], { ordered: true }),
    expect.type('date', 'datetime'),
    expect.notNull('origin'),
    expect.notNull('destination'),
    expect.between('delay', { min: -60, max: 1500, mostly: 0.9999 }),
    expect.between('delay', { min: -1200, max: 2000 }),
    expect.between('date', { min: '2001-01-01', max: '2001-07-01T00:00:00' }),
    expect.inSet('origin', airports),
    expect.regex('destination', '[A-Z]{3}'),
    expect.stringLength('origin', { min: 3, max: 3 }),
    expect.meanBetween('delay', { min: 0, max: 20 }),
    expect.stddevBetween('delay', { min: 10, max: 100 }),
    expect.quantileBetween('distance', 0.5, { min: 300, max: 1000 }),
    expect.nullProportionBelow('destination', 0),
    expect.foreignSubset('origin', 'airports', { foreignColumn: 'iata' }),
    expect.sql('distance > 0'),
  ]);
}

before(async () => {
  instance = await DuckDBInstance.create(':memory:');
  connection = await instance.connect();
  schema = await inferSchema(connection, FLIGHTS, 3_000_000);
  origins = (await duckdbAnswer(`select distinct origin from ${FLIGHTS} order by 1`)).map((row) => String(row.origin));
  flights = flightsSuite(origins);
});

after(() => {
  connection.closeSync();
  instance.closeSync();
});

describe('runSuite on flights-3m', () => {
  it('should pass the real data, with figures DuckDB confirms', async () => {
    const report = await runSuite(connection, { relation: FLIGHTS, schema, foreign }, flights);
    assert.deepEqual(
      report.results.filter((r) => !r.success),
      [],
    );
    assert.deepEqual([report.success, report.errors, report.warnings, report.row_count], [true, 0, 0, 3_000_000]);
    const [truth] = await duckdbAnswer(
      `select count(*) filter (where delay < -60 or delay > 1500) as outliers, avg(delay) as mean,
         quantile_cont(distance, 0.5) as median, min(delay) as lo, max(delay) as hi from ${FLIGHTS}`,
    );
    assert.ok(truth);
    const tolerated = report.results[5];
    assert.deepEqual(
      [tolerated?.unexpected_count, tolerated?.observed, tolerated?.unexpected_examples],
      [Number(truth.outliers), { min: Number(truth.lo), max: Number(truth.hi) }, undefined],
    );
    assert.ok(Math.abs(Number(report.results[11]?.observed) - Number(truth.mean)) < 1e-9);
    assert.equal(report.results[13]?.observed, Number(truth.median));
    assert.equal(origins.length, 229);
  });

  it('should count exactly the faults planted in a copy', async () => {
    await connection.run(`create or replace table faulted as select * from ${FLIGHTS}`);
    await connection.run('update faulted set delay = 5000 + rowid // 10 where rowid in (10, 20, 30, 40, 50, 60, 70)');
    await connection.run(`update faulted set origin = 'XXX' where rowid in (100, 200, 300)`);
    await connection.run('update faulted set destination = null where rowid in (1000, 2000, 3000, 4000)');
    const report = await runSuite(connection, { relation: 'faulted', schema, foreign }, flights);
    const failed = report.results
      .filter((r) => !r.success)
      .map(({ index, type, column, observed, element_count, unexpected_count, unexpected_examples, error }) => ({
        ...{ index, type, column, observed, element_count, unexpected_count, unexpected_examples, error },
      }));
    const share = (n: number) => (3_000_000 - n) / 3_000_000;
    assert.deepEqual(failed, [
      {
        ...{ index: 4, type: 'not_null', column: 'destination', observed: 4 },
        ...{ element_count: 3_000_000, unexpected_count: 4, unexpected_examples: undefined, error: undefined },
      },
      {
        ...{ index: 6, type: 'between', column: 'delay', observed: { min: -1116, max: 5007 } },
        ...{ element_count: 3_000_000, unexpected_count: 7, unexpected_examples: [5001, 5002, 5003, 5004, 5005] },
        error: undefined,
      },
      {
        ...{ index: 8, type: 'in_set', column: 'origin', observed: share(3), element_count: 3_000_000 },
        ...{ unexpected_count: 3, unexpected_examples: ['XXX'], error: undefined },
      },
      {
        ...{ index: 14, type: 'null_proportion_below', column: 'destination', observed: 4 / 3_000_000 },
        ...{ element_count: undefined, unexpected_count: undefined, unexpected_examples: undefined, error: undefined },
      },
      {
        ...{ index: 15, type: 'foreign_subset', column: 'origin', observed: share(3), element_count: 3_000_000 },
        ...{ unexpected_count: 3, unexpected_examples: ['XXX'], error: undefined },
      },
    ]);
    assert.deepEqual([report.success, report.errors, report.row_count], [false, 5, 3_000_000]);
    const [truth] = await duckdbAnswer(
      `select count(*) filter (where delay < -60 or delay > 1500) as n from ${FLIGHTS}`,
    );
    const tolerated = report.results[5];
    assert.deepEqual([tolerated?.success, tolerated?.unexpected_count], [true, Number(truth?.n) + 7]);
    assert.equal(report.results[9]?.element_count, 3_000_000 - 4, 'regex skips the nulls');
  });

  it('should find the origins missing from flights-airport.csv', async () => {
    const input: ValidationInput = { relation: FLIGHTS, schema, foreign };
    const report = await runSuite(
      connection,
      input,
      suite('routes', [expect.foreignSubset('origin', 'routes', { level: 'warn' })]),
    );
    const outside = `from ${FLIGHTS} where origin not in (select origin from ${ROUTES})`;
    const [truth] = await duckdbAnswer(`select count(*) as n ${outside}`);
    const examples = await duckdbAnswer(`select distinct origin ${outside} order by 1 limit 5`);
    const [result] = report.results;
    assert.ok(Number(truth?.n) > 0, 'the two extracts differ');
    assert.deepEqual(
      [result?.success, result?.unexpected_count, result?.unexpected_examples],
      [false, Number(truth?.n), examples.map((row) => row.origin)],
    );
    assert.deepEqual([report.success, report.warnings], [true, 1]);
  });

  it('timing', async () => {
    const times: number[] = [];
    for (let run = 0; run < 3; run++) {
      const started = performance.now();
      await runSuite(connection, { relation: FLIGHTS, schema, foreign }, flights);
      times.push(Math.round(performance.now() - started));
    }
    console.log(
      `${flights.expectations.length} expectations over flights-3m (read_parquet): ${times.join(' ms, ')} ms`,
    );
  });
});
