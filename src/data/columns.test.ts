import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { readColumns } from './columns.js';
import { withDuckSession } from './duck.js';
import { inferSchema, quoteLiteral } from './schema.js';
import { duckdbAnswer, PENGUINS_JSON, VEGA_DATA } from './testing/fixtures.js';

const FLIGHTS = `${VEGA_DATA}flights-3m.parquet`;

describe('readColumns', () => {
  it('should read flights-3m into typed arrays equal to what DuckDB computes', async () => {
    const relation = `read_parquet(${quoteLiteral(FLIGHTS)})`;
    const table = await withDuckSession(undefined, async ({ connection }) => {
      const schema = await inferSchema(connection, relation, 3_000_000);
      return readColumns(connection, relation, schema, { columns: ['date', 'delay', 'origin'] });
    });
    assert.equal(table.rows, 3_000_000);
    const [date, delay, origin] = table.columns;
    assert.ok(date?.kind === 'datetime' && delay?.kind === 'float' && origin?.kind === 'categorical');
    const [truth] = await duckdbAnswer(
      `select sum(delay)::double as total, min(epoch_ms(date)) as first, max(epoch_ms(date)) as last,
         count(distinct origin) as origins, count(*) filter (where origin = 'ATL') as atl from ${relation}`,
    );
    assert.equal(
      delay.values.reduce((a, b) => a + b, 0),
      Number(truth?.total),
    );
    assert.equal(Math.min(...date.values.subarray(0, 1)), Number(truth?.first), 'file order: the first flight');
    assert.equal(
      date.values.reduce((a, b) => Math.max(a, b), -Infinity),
      Number(truth?.last),
    );
    assert.equal(origin.dictionary.length, Number(truth?.origins));
    assert.deepEqual(origin.dictionary, [...origin.dictionary].sort());
    const atl = origin.dictionary.indexOf('ATL');
    assert.equal(
      origin.codes.reduce((n, code) => n + (code === atl ? 1 : 0), 0),
      Number(truth?.atl),
    );
  });

  it('should keep missing values as NaN and -1, and refuse unknown columns and free text by name', async () => {
    const relation = `read_json_auto(${quoteLiteral(PENGUINS_JSON)})`;
    await withDuckSession(undefined, async ({ connection }) => {
      const schema = await inferSchema(connection, relation, 344);
      const table = await readColumns(connection, relation, schema, { columns: ['Beak Length (mm)', 'Sex'] });
      const [beak, sex] = table.columns;
      assert.ok(beak?.kind === 'float' && sex?.kind === 'categorical');
      const [truth] = await duckdbAnswer(
        `select count(*) - count("Beak Length (mm)") as beak_nulls, count(*) - count("Sex") as sex_nulls from ${relation}`,
      );
      assert.equal(beak.values.filter(Number.isNaN).length, Number(truth?.beak_nulls));
      assert.equal(sex.codes.filter((c) => c === -1).length, Number(truth?.sex_nulls));
      await assert.rejects(
        readColumns(connection, relation, schema, { columns: ['Wingspan'] }),
        (
          err: Error & {
            details?: { field?: string };
          },
        ) => err.details?.field === 'columns[0]' && /Wingspan/.test(err.message),
      );
      await assert.rejects(
        readColumns(connection, relation, schema, { columns: ['Island'], maxCategories: 2 }),
        /more than 2 distinct values/,
      );
    });
  });
});
