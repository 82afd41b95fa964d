import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type DuckDBConnection, DuckDBInstance } from '@duckdb/node-api';
import type { DatasetSchema } from './model.js';
import { inferSchema, quoteIdent, quoteLiteral } from './schema.js';
import { checkSplitSpec, SPLIT_PARTS, type SplitPart, type SplitSpec, splitQueries } from './split.js';
import { PENGUINS_JSON, VEGA_DATA } from './testing/fixtures.js';

const FLIGHTS = `${VEGA_DATA}flights-3m.parquet`;
const FLIGHTS_ROWS = 3_000_000;

let instance: DuckDBInstance;
let connection: DuckDBConnection;
let dir: string;
let flights: DatasetSchema;

async function rows(sql: string): Promise<Record<string, unknown>[]> {
  return (await connection.runAndReadAll(sql)).getRowObjectsJson() as Record<string, unknown>[];
}

async function one(sql: string): Promise<Record<string, unknown>> {
  const [row] = await rows(sql);
  assert.ok(row, sql);
  return row;
}

/** Row count and an order-insensitive digest (sum of row hashes) of a query's rows. */
interface Digest {
  n: bigint;
  h: bigint;
}

function hashSum(schema: DatasetSchema): string {
  return `sum(hash(${schema.columns.map((c) => quoteIdent(c.name)).join(', ')}))`;
}

async function digest(query: string, schema: DatasetSchema): Promise<Digest> {
  const row = await one(`select count(*) as n, ${hashSum(schema)} as h from (${query})`);
  return { n: BigInt(String(row.n)), h: BigInt(String(row.h)) };
}

/**
 * The parts' digests add up to the file's: with equal counts, every row is in exactly one part
 * (short of a hash coincidence). Cheaper on 3M rows than the `except all` of {@link assertPartition}.
 */
async function assertDigestsCover(parts: Digest[], path: string, schema: DatasetSchema): Promise<void> {
  const whole = await digest(`select * from read_parquet(${quoteLiteral(path)})`, schema);
  assert.deepEqual(
    parts.reduce((sum, part) => ({ n: sum.n + part.n, h: sum.h + part.h }), { n: 0n, h: 0n }),
    whole,
  );
}

/** The union of the parts is the file, as a multiset: every row is in exactly one part. */
async function assertPartition(queries: Record<SplitPart, string>, path: string): Promise<void> {
  const union = `select * from (${SPLIT_PARTS.map((part) => `(${queries[part]})`).join(' union all ')})`;
  const source = `select * from read_parquet(${quoteLiteral(path)})`;
  const row = await one(`select (select count(*) from (${union})) as n,
      (select count(*) from (${source} except all ${union})) as missing,
      (select count(*) from (${union} except all ${source})) as extra`);
  assert.deepEqual(row, {
    n: String((await one(`select count(*) as n from (${source})`)).n),
    missing: '0',
    extra: '0',
  });
}

before(async () => {
  instance = await DuckDBInstance.create(':memory:');
  connection = await instance.connect();
  dir = await mkdtemp(join(tmpdir(), 'kiln-split-'));
  flights = await inferSchema(connection, `read_parquet(${quoteLiteral(FLIGHTS)})`, FLIGHTS_ROWS);
});
after(async () => {
  connection.closeSync();
  instance.closeSync();
  await rm(dir, { recursive: true, force: true });
});

describe('splitQueries on flights-3m', () => {
  it('time split: exact sizes, train before validation before test, every row once', async () => {
    const spec = checkSplitSpec(
      { method: 'time', fractions: { train: 0.8, validation: 0.1, test: 0.1 }, column: 'date' },
      flights,
    );
    const queries = splitQueries(FLIGHTS, flights, spec);
    const ranges: Record<string, unknown>[] = [];
    for (const part of SPLIT_PARTS) {
      ranges.push(
        await one(`select count(*) as n, min(date) as lo, max(date) as hi, ${hashSum(flights)} as h
          from (${queries[part]})`),
      );
    }
    assert.deepEqual(
      ranges.map((r) => Number(r.n)),
      [2_400_000, 300_000, 300_000],
    );
    const [a, b, c] = ranges;
    assert.ok(a && b && c);
    assert.ok(String(a.hi) <= String(b.lo) && String(b.hi) <= String(c.lo), JSON.stringify(ranges));
    assert.ok(String(a.lo) < String(a.hi) && String(c.lo) < String(c.hi));
    // Each part has exactly the schema's columns, in order.
    const described = await rows(`describe ${queries.validation}`);
    assert.deepEqual(
      described.map((r) => r.column_name),
      ['date', 'delay', 'distance', 'origin', 'destination'],
    );
    const parts = ranges.map((r) => ({ n: BigInt(String(r.n)), h: BigInt(String(r.h)) }));
    await assertDigestsCover(parts, FLIGHTS, flights);
  });

  it('random split: exact sizes, the same rows on every run and thread count, others with another seed', async () => {
    const spec = checkSplitSpec(
      { method: 'random', fractions: { train: 0.7, validation: 0.2, test: 0.1 }, seed: 42 },
      flights,
    );
    const queries = splitQueries(FLIGHTS, flights, spec);
    const parts: Digest[] = [];
    for (const part of SPLIT_PARTS) parts.push(await digest(queries[part], flights));
    assert.deepEqual(
      parts.map((d) => d.n),
      [2_100_000n, 600_000n, 300_000n],
    );
    await assertDigestsCover(parts, FLIGHTS, flights);
    await connection.run('set threads = 1');
    try {
      assert.deepEqual(await digest(queries.validation, flights), parts[1]);
    } finally {
      await connection.run('reset threads');
    }
    assert.deepEqual(await digest(queries.validation, flights), parts[1]);
    const reseeded = await digest(splitQueries(FLIGHTS, flights, { ...spec, seed: 43 }).validation, flights);
    assert.equal(reseeded.n, 600_000n);
    assert.notEqual(reseeded.h, parts[1]?.h);
  });
});

describe('splitQueries on penguins', () => {
  let path: string;
  let schema: DatasetSchema;

  before(async () => {
    // An `id` column equal to the file row number makes order and membership checkable.
    path = join(dir, 'penguins.parquet');
    await connection.run(
      `copy (select row_number() over () - 1 as id, * from read_json_auto(${quoteLiteral(PENGUINS_JSON)}) order by id)
       to ${quoteLiteral(path)} (format parquet)`,
    );
    schema = await inferSchema(connection, `read_parquet(${quoteLiteral(path)})`, 344);
  });

  async function ids(queries: Record<SplitPart, string>): Promise<number[][]> {
    const result: number[][] = [];
    for (const part of SPLIT_PARTS) result.push((await rows(queries[part])).map((row) => Number(row.id)));
    return result;
  }

  it('stratified split keeps each stratum, nulls included, within one row of its share', async () => {
    for (const column of ['Species', 'Sex']) {
      const spec = checkSplitSpec(
        { method: 'stratified', fractions: { train: 0.6, validation: 0.25, test: 0.15 }, seed: 7, column },
        schema,
      );
      const queries = splitQueries(path, schema, spec);
      const id = quoteIdent(column);
      const totals = new Map(
        (
          await rows(`select ${id}::varchar as s, count(*) as n from read_parquet(${quoteLiteral(path)}) group by all`)
        ).map((r) => [r.s, Number(r.n)]),
      );
      assert.ok(totals.size >= 3, column);
      if (column === 'Sex') assert.ok(totals.has(null), 'Sex has a null stratum');
      for (const part of SPLIT_PARTS) {
        const counts = await rows(`select ${id}::varchar as s, count(*) as n from (${queries[part]}) group by all`);
        for (const [stratum, total] of totals) {
          const n = Number(counts.find((r) => r.s === stratum)?.n ?? 0);
          const expected = total * spec.fractions[part];
          assert.ok(Math.abs(n - expected) < 1, `${column}=${stratum} ${part}: ${n} vs ${expected}`);
        }
      }
      await assertPartition(queries, path);
    }
  });

  it('lists each part in file order and depends on the seed', async () => {
    const spec = checkSplitSpec({ method: 'random', fractions: { train: 0.5, validation: 0.5 }, seed: -3 }, schema);
    const [train, validation, test] = await ids(splitQueries(path, schema, spec));
    assert.ok(train && validation && test);
    assert.deepEqual([train.length, validation.length, test.length], [172, 172, 0]);
    for (const part of [train, validation])
      assert.deepEqual(
        part,
        [...part].sort((x, y) => x - y),
      );
    assert.deepEqual(
      [...train, ...validation].sort((x, y) => x - y),
      Array.from({ length: 344 }, (_, i) => i),
    );
    // Not the first half of the file: the order is the hash's, not the file's.
    assert.notDeepEqual(
      train,
      Array.from({ length: 172 }, (_, i) => i),
    );
    const [other] = await ids(splitQueries(path, schema, { ...spec, seed: 0 }));
    assert.notDeepEqual(other, train);
  });
});

describe('part order on a file of many row groups', () => {
  it('lists rows in file order even when DuckDB reads the row groups in parallel', async () => {
    const path = join(dir, 'many-groups.parquet');
    await connection.run(
      `copy (select range as id from range(1000000)) to ${quoteLiteral(path)} (format parquet, row_group_size 50000)`,
    );
    const schema = await inferSchema(connection, `read_parquet(${quoteLiteral(path)})`, 1_000_000);
    const spec = checkSplitSpec({ method: 'random', fractions: { train: 0.5, validation: 0.3, test: 0.2 } }, schema);
    const ids = (await rows(splitQueries(path, schema, spec).validation)).map((row) => Number(row.id));
    assert.equal(ids.length, 300_000);
    assert.ok(
      ids.every((id, i) => i === 0 || id > (ids[i - 1] ?? Number.POSITIVE_INFINITY)),
      'validation rows out of file order',
    );
  });
});

describe('time split ties and nulls', () => {
  it('cuts ties by row number and puts null times last', async () => {
    const path = join(dir, 'ties.parquet');
    await connection.run(
      `copy (select range as id, case when range = 1 then null else timestamp '2001-01-01' end as t from range(8) order by id)
       to ${quoteLiteral(path)} (format parquet)`,
    );
    const schema = await inferSchema(connection, `read_parquet(${quoteLiteral(path)})`, 8);
    const spec = checkSplitSpec(
      { method: 'time', fractions: { train: 0.5, validation: 0.25, test: 0.25 }, column: 't' },
      schema,
    );
    const queries = splitQueries(path, schema, spec);
    const parts: number[][] = [];
    for (const part of SPLIT_PARTS) parts.push((await rows(queries[part])).map((row) => Number(row.id)));
    assert.deepEqual(parts, [
      [0, 2, 3, 4],
      [5, 6],
      [1, 7],
    ]);
  });
});

describe('checkSplitSpec', () => {
  const schema: DatasetSchema = {
    columns: [
      { name: 'date', logicalType: 'datetime', physicalType: 'TIMESTAMP', nullable: false },
      { name: 'origin', logicalType: 'string', physicalType: 'VARCHAR', nullable: false },
      { name: 'file_row_number', logicalType: 'integer', physicalType: 'BIGINT', nullable: false },
    ],
  };
  const fractions = { train: 0.7, validation: 0.2, test: 0.1 };

  it('fills defaults and accepts fractions that sum to 1 in floating point', () => {
    assert.deepEqual(checkSplitSpec({ method: 'random', fractions }, schema), { method: 'random', fractions, seed: 0 });
    assert.deepEqual(
      checkSplitSpec({ method: 'stratified', fractions: { train: 1 }, column: 'origin', seed: 5 }, schema),
      {
        method: 'stratified',
        fractions: { train: 1, validation: 0, test: 0 },
        seed: 5,
        column: 'origin',
      } satisfies SplitSpec,
    );
  });

  it('names the field of each mistake', () => {
    const cases: [unknown, string][] = [
      [null, 'split'],
      [{ method: 'shuffle', fractions }, 'method'],
      [{ fractions }, 'method'],
      [{ method: 'random' }, 'fractions'],
      [{ method: 'random', fractions: { validation: 0.5, test: 0.5 } }, 'fractions.train'],
      [{ method: 'random', fractions: { train: 0, validation: 0.5, test: 0.5 } }, 'fractions.train'],
      [{ method: 'random', fractions: { train: 1.2, validation: -0.2 } }, 'fractions.train'],
      [{ method: 'random', fractions: { train: 0.8, validation: -0.1, test: 0.3 } }, 'fractions.validation'],
      [{ method: 'random', fractions: { train: 0.8, test: '0.2' } }, 'fractions.test'],
      [{ method: 'random', fractions: { train: 0.8, val: 0.2 } }, 'fractions.val'],
      [{ method: 'random', fractions: { train: 0.8, validation: 0.1, test: 0.05 } }, 'fractions'],
      [{ method: 'random', fractions, seed: 1.5 }, 'seed'],
      [{ method: 'random', fractions, column: 'date' }, 'column'],
      [{ method: 'random', fractions, shuffle: true }, 'shuffle'],
      [{ method: 'stratified', fractions }, 'column'],
      [{ method: 'stratified', fractions, column: 'dest' }, 'column'],
      [{ method: 'time', fractions, column: 'origin' }, 'column'],
    ];
    for (const [value, field] of cases) {
      assert.throws(
        () => checkSplitSpec(value, schema),
        (error: { code?: string; details?: { field?: string } }) =>
          error.code === 'INVALID_PARAMETER_VALUE' && error.details?.field === field,
        `${JSON.stringify(value)} should fail on ${field}`,
      );
    }
  });

  it('refuses a dataset with its own file_row_number column', () => {
    assert.throws(
      () => splitQueries('/tmp/x.parquet', schema, checkSplitSpec({ method: 'random', fractions }, schema)),
      {
        code: 'NOT_IMPLEMENTED',
      },
    );
  });
});
