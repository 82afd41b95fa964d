import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type DuckDBConnection, DuckDBInstance } from '@duckdb/node-api';
import type { DatasetSchema } from '../model.js';
import { inferSchema } from '../schema.js';
import { duckdbAnswer } from '../testing/fixtures.js';
import { expect, suite } from './builder.js';
import type { Expectation, ExpectationResult } from './model.js';
import { runSuite, type ValidationInput } from './run.js';

/**
 * Ten rows with one flaw per column: a null and an odd code, a far-off score, a late timestamp,
 * two short or long notes. Every count below is worked out by hand from these rows.
 */
const ROWS = `(values
  (1, 'AA', 1.0, timestamp '2024-01-01', true, 'alpha'),
  (2, 'AA', 2.0, timestamp '2024-01-02', true, 'beta'),
  (3, 'BB', 3.0, timestamp '2024-01-03', false, 'gamma'),
  (4, 'CC', 4.0, timestamp '2024-01-04', true, 'delta'),
  (5, 'AA', 5.0, timestamp '2024-01-05', true, null),
  (6, 'BB', null, timestamp '2024-01-06', false, 'epsilon'),
  (7, null, 7.0, timestamp '2024-01-07', true, 'zeta'),
  (8, 'DD', 8.0, timestamp '2024-01-08', true, 'eta'),
  (9, 'AA', 9.0, timestamp '2024-01-09', true, 'theta'),
  (10, 'Z9', 100.0, timestamp '2024-02-01', true, 'iota')
) v(id, code, score, seen, ok, note)`;

let instance: DuckDBInstance;
let connection: DuckDBConnection;
let input: ValidationInput;

before(async () => {
  instance = await DuckDBInstance.create(':memory:');
  connection = await instance.connect();
  await connection.run(
    `create table t as select id::integer as id, code, score::double as score, seen, ok, note from ${ROWS}`,
  );
  await connection.run(`create table codes as select * from (values ('AA'), ('BB'), ('CC'), ('DD'), (null)) v(c)`);
  await connection.run(`create table all_codes as select c from codes union all select 'Z9'`);
  input = {
    relation: 't',
    schema: await inferSchema(connection, 't', 10),
    foreign: ({ dataset }) => dataset,
  };
});

after(() => {
  connection.closeSync();
  instance.closeSync();
});

/** Runs one expectation and returns its result. */
async function check(expectation: Expectation, over: ValidationInput = input): Promise<ExpectationResult> {
  const report = await runSuite(connection, over, suite('one', [expectation]));
  const [result] = report.results;
  assert.ok(result);
  assert.equal(report.success, result.success);
  return result;
}

/** The row-based figures of a result, for one deepEqual. */
function figures(result: ExpectationResult) {
  const { success, observed, element_count, unexpected_count, unexpected_examples, error } = result;
  return { success, observed, element_count, unexpected_count, unexpected_examples, error };
}

describe('runSuite, one expectation type at a time', () => {
  it('not_null counts nulls over every row', async () => {
    assert.deepEqual(figures(await check(expect.notNull('id'))), {
      ...{ success: true, observed: 0, element_count: 10, unexpected_count: 0 },
      ...{ unexpected_examples: undefined, error: undefined },
    });
    const failed = await check(expect.notNull('code'));
    assert.deepEqual(figures(failed), {
      ...{ success: false, observed: 1, element_count: 10, unexpected_count: 1 },
      ...{ unexpected_examples: undefined, error: undefined },
    });
    assert.equal(failed.unexpected_percent, 10);
  });

  it('unique counts every non-null row whose value repeats', async () => {
    assert.equal((await check(expect.unique('id'))).success, true);
    assert.deepEqual(figures(await check(expect.unique('code'))), {
      ...{ success: false, observed: 5, element_count: 9, unexpected_count: 6 },
      ...{ unexpected_examples: ['AA', 'BB'], error: undefined },
    });
  });

  it('type compares with the schema, where categorical also counts as string', async () => {
    const passed = await check(expect.type('score', ['integer', 'float']));
    assert.deepEqual(passed.observed, { logical_type: 'float', physical_type: 'DOUBLE' });
    assert.equal(passed.success, true);
    assert.equal((await check(expect.type('score', 'integer'))).success, false);
    const categorical: DatasetSchema = {
      columns: input.schema.columns.map((c) => (c.name === 'code' ? { ...c, logicalType: 'categorical' } : c)),
    };
    assert.equal((await check(expect.type('code', 'string'), { ...input, schema: categorical })).success, true);
    assert.equal((await check(expect.type('code', 'categorical'))).success, false, 'inferred as string');
  });

  it('between checks numbers and ISO datetimes, inclusive unless strict', async () => {
    assert.deepEqual(figures(await check(expect.between('score', { min: 0, max: 10 }))), {
      ...{ success: false, observed: { min: 1, max: 100 }, element_count: 9, unexpected_count: 1 },
      ...{ unexpected_examples: [100], error: undefined },
    });
    assert.equal((await check(expect.between('score', { min: 1, max: 100 }))).success, true);
    assert.deepEqual((await check(expect.between('id', { min: 1, strictMin: true }))).unexpected_examples, [1]);
    assert.deepEqual((await check(expect.between('id', { max: 10, strictMax: true }))).unexpected_examples, [10]);
    const late = await check(expect.between('seen', { min: '2024-01-01', max: '2024-01-31T23:59:59' }));
    assert.deepEqual(figures(late), {
      ...{ success: false, element_count: 10, unexpected_count: 1, error: undefined },
      ...{
        observed: { min: '2024-01-01T00:00:00', max: '2024-02-01T00:00:00' },
        unexpected_examples: ['2024-02-01T00:00:00'],
      },
    });
    assert.equal((await check(expect.between('seen', { max: '2024-02-01T00:00:00' }))).success, true);
  });

  it('in_set compares in the column type', async () => {
    assert.deepEqual(figures(await check(expect.inSet('code', ['AA', 'BB', 'CC', 'DD']))), {
      ...{ success: false, observed: 8 / 9, element_count: 9, unexpected_count: 1 },
      ...{ unexpected_examples: ['Z9'], error: undefined },
    });
    assert.equal((await check(expect.inSet('code', ['AA', 'BB', 'CC', 'DD', 'Z9']))).success, true);
    const flags = await check(expect.inSet('ok', [true]));
    assert.deepEqual([flags.unexpected_count, flags.unexpected_examples], [2, [false]]);
    assert.equal((await check(expect.inSet('id', [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]))).success, true);
  });

  it('regex matches the whole text and reports a pattern that does not compile', async () => {
    const failed = await check(expect.regex('code', '[A-Z]{2}'));
    assert.deepEqual([failed.unexpected_count, failed.unexpected_examples], [1, ['Z9']]);
    assert.equal((await check(expect.regex('code', '[A-Z][A-Z0-9]'))).success, true);
    // A search would accept the four AA codes; a full match accepts none.
    assert.equal((await check(expect.regex('code', 'A'))).unexpected_count, 9);
    const broken = await check(expect.regex('code', '(A'));
    assert.equal(broken.success, false);
    assert.match(broken.error ?? '', /^pattern "\(A" does not compile: .*missing \)/);
  });

  it('string_length bounds the length of the text', async () => {
    assert.deepEqual(figures(await check(expect.stringLength('note', { min: 4, max: 5 }))), {
      ...{ success: false, observed: { min: 3, max: 7 }, element_count: 9, unexpected_count: 2 },
      ...{ unexpected_examples: ['epsilon', 'eta'], error: undefined },
    });
    assert.equal((await check(expect.stringLength('note', { min: 3, max: 7 }))).success, true);
  });

  it('row_count_between and column_set_equals look at the relation as a whole', async () => {
    assert.deepEqual(figures(await check(expect.rowCountBetween({ min: 10, max: 10 }))), {
      ...{ success: true, observed: 10, element_count: undefined, unexpected_count: undefined },
      ...{ unexpected_examples: undefined, error: undefined },
    });
    assert.equal((await check(expect.rowCountBetween({ max: 9 }))).success, false);
    const all = ['id', 'code', 'score', 'seen', 'ok', 'note'];
    assert.equal((await check(expect.columnSetEquals(all, { ordered: true }))).success, true);
    const shuffled = [...all].reverse();
    assert.equal((await check(expect.columnSetEquals(shuffled))).success, true);
    assert.equal((await check(expect.columnSetEquals(shuffled, { ordered: true }))).success, false);
    const differs = await check(expect.columnSetEquals(['id', 'code', 'score', 'seen', 'ok', 'remark']));
    assert.deepEqual(figures(differs), {
      ...{ success: false, element_count: undefined, unexpected_count: undefined },
      ...{
        observed: { columns: all, missing: ['remark'], extra: ['note'] },
        unexpected_examples: undefined,
        error: undefined,
      },
    });
  });

  it('mean, stddev and quantile match DuckDB asked directly', async () => {
    const [truth] = await duckdbAnswer(`select avg(score) as m, stddev_samp(score) as s from ${ROWS}`);
    const [mean, sd] = [Number(truth?.m), Number(truth?.s)];
    assert.ok(Math.abs(mean - 139 / 9) < 1e-12);
    const m = await check(expect.meanBetween('score', { min: mean - 1e-9, max: mean + 1e-9 }));
    assert.deepEqual([m.success, m.observed], [true, mean]);
    assert.equal((await check(expect.meanBetween('score', { max: 10 }))).success, false);
    const s = await check(expect.stddevBetween('score', { min: sd - 1e-9, max: sd + 1e-9 }));
    assert.equal(s.success, true);
    assert.ok(Math.abs(Number(s.observed) - sd) < 1e-9);
    assert.equal((await check(expect.stddevBetween('score', { max: 1 }))).success, false);
    // Sorted non-null scores 1 2 3 4 5 7 8 9 100: the median is 5, the 0.25 quantile 3.
    assert.deepEqual(figures(await check(expect.quantileBetween('score', 0.5, { min: 5, max: 5 }))).observed, 5);
    assert.equal((await check(expect.quantileBetween('score', 0.25, { min: 3, max: 3 }))).success, true);
    assert.equal((await check(expect.quantileBetween('score', 0.5, { min: 6 }))).success, false);
    assert.match(
      (await check(expect.meanBetween('code', { min: 0 }))).error ?? '',
      /needs a numeric column; 'code' is/,
    );
  });

  it('null_proportion_below allows at most that share of nulls', async () => {
    const exact = await check(expect.nullProportionBelow('code', 0.1));
    assert.deepEqual([exact.success, exact.observed], [true, 0.1]);
    assert.equal((await check(expect.nullProportionBelow('code', 0.05))).success, false);
  });

  it('compound_unique reports repeated combinations as objects', async () => {
    assert.deepEqual(figures(await check(expect.compoundUnique(['code', 'ok']))), {
      ...{ success: false, observed: 6, element_count: 10, unexpected_count: 6, error: undefined },
      ...{
        unexpected_examples: [
          { code: 'AA', ok: true },
          { code: 'BB', ok: false },
        ],
      },
    });
    assert.equal((await check(expect.compoundUnique(['id', 'code']))).success, true);
  });

  it('foreign_subset looks every value up in the other relation', async () => {
    assert.deepEqual(figures(await check(expect.foreignSubset('code', 'codes', { foreignColumn: 'c' }))), {
      ...{ success: false, observed: 8 / 9, element_count: 9, unexpected_count: 1 },
      ...{ unexpected_examples: ['Z9'], error: undefined },
    });
    assert.equal((await check(expect.foreignSubset('code', 'all_codes', { foreignColumn: 'c' }))).success, true);
    const noColumn = await check(expect.foreignSubset('code', 'codes', { version: 2 }));
    assert.equal(noColumn.error, "column 'code' does not exist in dataset 'codes' version 2");
    const unsupplied = await check(expect.foreignSubset('code', 'codes'), { relation: 't', schema: input.schema });
    assert.equal(unsupplied.error, "dataset 'codes' was not supplied to the run");
  });

  it('sql counts rows where the predicate is not true and shows the first of them', async () => {
    const failed = await check(expect.sql('score < 50'));
    assert.deepEqual(figures(failed), {
      ...{ success: false, observed: 0.8, element_count: 10, unexpected_count: 2, error: undefined },
      unexpected_examples: [
        { id: 6, code: 'BB', score: null, seen: '2024-01-06T00:00:00', ok: false, note: 'epsilon' },
        { id: 10, code: 'Z9', score: 100, seen: '2024-02-01T00:00:00', ok: true, note: 'iota' },
      ],
    });
    assert.equal((await check(expect.sql("id > 0 and note <> ''", { mostly: 0.9 }))).success, true);
    assert.match((await check(expect.sql('nope > 1'))).error ?? '', /Binder Error: .*"nope"/);
  });
});

describe('runSuite, as a whole', () => {
  it('should report a missing column on its expectation and still judge the rest', async () => {
    const report = await runSuite(
      connection,
      input,
      suite('typo', [expect.notNull('id'), expect.between('scroe', { min: 0 }), expect.compoundUnique(['id', 'cod'])]),
    );
    assert.deepEqual(
      report.results.map((r) => [r.success, r.error]),
      [
        [true, undefined],
        [false, "column 'scroe' does not exist (did you mean 'score'?)"],
        [false, "column 'cod' does not exist (did you mean 'code'?)"],
      ],
    );
    assert.deepEqual([report.success, report.errors, report.warnings, report.row_count], [false, 2, 0, 10]);
  });

  it('should fail only on error-level expectations', async () => {
    const warned = await runSuite(
      connection,
      input,
      suite('levels', [expect.notNull('id'), expect.notNull('code', { level: 'warn' })]),
    );
    assert.deepEqual([warned.success, warned.errors, warned.warnings], [true, 0, 1]);
    assert.equal(warned.results[1]?.level, 'warn');
    const failed = await runSuite(connection, input, suite('levels', [expect.notNull('code'), expect.unique('id')]));
    assert.deepEqual([failed.success, failed.errors, failed.warnings], [false, 1, 0]);
  });

  it('should pass with mostly when enough rows pass, and fetch examples only on failure', async () => {
    const enough = await check(expect.between('score', { max: 10, mostly: 0.8 }));
    assert.deepEqual([enough.success, enough.unexpected_count, enough.unexpected_examples], [true, 1, undefined]);
    const short = await check(expect.between('score', { max: 10, mostly: 0.9 }));
    assert.deepEqual([short.success, short.unexpected_examples], [false, [100]]);
  });

  it('should refuse bounds and values of the wrong kind for the column', async () => {
    const cases: [Expectation, RegExp][] = [
      [
        expect.between('score', { min: '2024-01-01' }),
        /min must be a number for float column 'score', got "2024-01-01"/,
      ],
      [expect.between('seen', { min: 5 }), /min must be an ISO 8601 string for datetime column 'seen'/],
      [expect.between('seen', { max: '2024-13-01' }), /max "2024-13-01" is not a valid TIMESTAMP/],
      [expect.between('code', { min: 0 }), /between needs a numeric or datetime column; 'code' is string/],
      [expect.inSet('code', ['AA', 1]), /values\[1\] must be a string for string column 'code', got 1/],
      [expect.inSet('ok', ['true']), /must be true or false/],
    ];
    for (const [expectation, error] of cases) {
      const result = await check(expectation);
      assert.equal(result.success, false);
      assert.match(result.error ?? '', error);
    }
  });

  it('should pin a run-time SQL error on its own expectation', async () => {
    const report = await runSuite(
      connection,
      input,
      suite('runtime', [expect.notNull('code'), expect.sql('cast(note as integer) > 0'), expect.unique('id')]),
    );
    assert.deepEqual(
      report.results.map((r) => [r.success, r.unexpected_count]),
      [
        [false, 1],
        [false, undefined],
        [true, 0],
      ],
    );
    assert.match(report.results[1]?.error ?? '', /^Conversion Error: .*alpha/);
    assert.equal(report.row_count, 10);
  });
});
