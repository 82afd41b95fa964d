import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type DuckDBConnection, DuckDBInstance } from '@duckdb/node-api';
import {
  Binary,
  Bool,
  type DataType,
  DateDay,
  DateMillisecond,
  Decimal,
  Dictionary,
  Field,
  Float16,
  Float64,
  Int8,
  Int32,
  Int64,
  LargeUtf8,
  List,
  makeData,
  makeVector,
  Null,
  type RecordBatch,
  Schema,
  Struct,
  Table,
  TimestampMillisecond,
  TimestampNanosecond,
  TimestampSecond,
  tableFromIPC,
  tableToIPC,
  Uint64,
  Utf8,
  type Vector,
  vectorFromArray,
} from 'apache-arrow';
import { loadArrowFile } from './arrow.js';
import { duckdbAnswer, VEGA_DATA } from './testing/fixtures.js';

const FLIGHTS_ARROW = `${VEGA_DATA}flights-200k.arrow`;
const FLIGHTS_JSON = `${VEGA_DATA}flights-200k.json`;

async function withConnection<T>(work: (connection: DuckDBConnection) => Promise<T>): Promise<T> {
  const instance = await DuckDBInstance.create(':memory:');
  try {
    const connection = await instance.connect();
    try {
      return await work(connection);
    } finally {
      connection.closeSync();
    }
  } finally {
    instance.closeSync();
  }
}

async function rows(connection: DuckDBConnection, sql: string): Promise<Record<string, unknown>[]> {
  return (await connection.runAndReadAll(sql)).getRowObjectsJson() as Record<string, unknown>[];
}

/** A fixed-width Arrow vector straight from its value buffer, so every raw value is exactly what the test says. */
function rawVector<T extends DataType>(type: T, data: ArrayLike<number | bigint>, valid: boolean[]): Vector<T> {
  const nullBitmap = new Uint8Array(Math.ceil(valid.length / 8));
  valid.forEach((ok, i) => {
    if (ok) nullBitmap[i >> 3] = (nullBitmap[i >> 3] as number) | (1 << (i & 7));
  });
  const nullCount = valid.filter((ok) => !ok).length;
  const props = { type, length: valid.length, nullCount, nullBitmap, data } as unknown as Parameters<
    typeof makeData
  >[0];
  return makeVector(makeData(props)) as Vector<T>;
}

/** Little-endian 32-bit words of a two's complement integer, `words` of them. */
function decimalWords(values: bigint[], words: number): Uint32Array {
  const out = new Uint32Array(values.length * words);
  values.forEach((value, i) => {
    let v = BigInt.asUintN(words * 32, value);
    for (let w = 0; w < words; w++) {
      out[i * words + w] = Number(v & 0xffffffffn);
      v >>= 32n;
    }
  });
  return out;
}

describe('loadArrowFile on flights-200k.arrow', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'kiln-test-arrow-'));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it('should hold exactly the rows of flights-200k.json, typed from the Arrow schema', async () => {
    const parquet = join(dir, 'flights.parquet');
    await withConnection(async (connection) => {
      const load = await loadArrowFile(connection, FLIGHTS_ARROW, 'flights');
      assert.equal(load.rowCount, 200_000);
      assert.ok(load.batchCount >= 1);
      const described = await rows(connection, 'describe flights');
      // The Arrow schema, read independently: Int16, Int16, Float32.
      const schema = tableFromIPC(readFileSync(FLIGHTS_ARROW)).schema;
      assert.deepEqual(
        schema.fields.map((f) => [f.name, String(f.type)]),
        [
          ['delay', 'Int16'],
          ['distance', 'Int16'],
          ['time', 'Float32'],
        ],
      );
      assert.deepEqual(
        described.map((r) => [r.column_name, r.column_type]),
        [
          ['delay', 'SMALLINT'],
          ['distance', 'SMALLINT'],
          ['time', 'FLOAT'],
        ],
      );
      await connection.run(`copy flights to '${parquet}' (format parquet)`);
    });
    const arrow = `read_parquet('${parquet}')`;
    const json = `(select delay::smallint as delay, distance::smallint as distance, time::float as time from read_json_auto('${FLIGHTS_JSON}'))`;
    // Same multiset of rows both ways: the two files really hold the same data.
    for (const [a, b] of [
      [arrow, json],
      [json, arrow],
    ]) {
      const [diff] = await duckdbAnswer(`select count(*) as n from (select * from ${a} except all select * from ${b})`);
      assert.equal(Number(diff?.n), 0);
    }
    const aggregates = (relation: string) =>
      duckdbAnswer(
        `select count(*) as n, count(delay) as delays, sum(delay) as sd, min(delay) as mind, max(delay) as maxd,
           sum(distance) as sdist, min(distance) as mindist, max(distance) as maxdist,
           min(time) as mint, max(time) as maxt, count(distinct time) as dt, count(distinct delay) as dd
         from ${relation}`,
      );
    const [fromArrow] = await aggregates(arrow);
    const [fromJson] = await aggregates(json);
    assert.deepEqual(fromArrow, fromJson);
    assert.equal(fromArrow?.n, '200000');
    // And one figure computed by apache-arrow alone, with no DuckDB reader involved.
    let delaySum = 0;
    for (const value of tableFromIPC(readFileSync(FLIGHTS_ARROW)).getChild('delay') ?? []) delaySum += Number(value);
    assert.equal(Number(fromArrow?.sd), delaySum);
  });
});

describe('loadArrowFile on written files', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'kiln-test-arrow-'));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  const beyond53 = 2n ** 53n + 1n;
  const mixed = () =>
    new Table({
      id: vectorFromArray([1, 2, 3], new Int32()),
      big: rawVector(new Int64(), new BigInt64Array([beyond53, 0n, -(2n ** 62n)]), [true, false, true]),
      ubig: rawVector(new Uint64(), new BigUint64Array([2n ** 64n - 1n, 7n, 0n]), [true, true, false]),
      tiny: rawVector(new Int8(), new Int8Array([-128, 0, 127]), [true, true, true]),
      city: vectorFromArray(['Oslo', null, 'Oslo'], new Dictionary(new Utf8(), new Int32())),
      note: vectorFromArray(['héllo', '', null], new LargeUtf8()),
      flag: vectorFromArray([true, null, false], new Bool()),
      half: rawVector(new Float16(), new Uint16Array([0x3e00, 0, 0xc000]), [true, false, true]),
      ratio: vectorFromArray([0.5, null, -1e300], new Float64()),
      day: rawVector(new DateDay(), new Int32Array([0, -1, 19000]), [true, true, false]),
      stamp_ms_tz: rawVector(
        new TimestampMillisecond('Europe/Oslo'),
        new BigInt64Array([1_577_880_000_123n, 0n, -1n]),
        [true, false, true],
      ),
      stamp_ns: rawVector(new TimestampNanosecond(), new BigInt64Array([1_600_000_000_123_456_789n, -1n, 0n]), [
        true,
        true,
        false,
      ]),
      stamp_s: rawVector(new TimestampSecond(), new BigInt64Array([1n, 0n, -86_400n]), [true, true, true]),
      date64: rawVector(new DateMillisecond(), new BigInt64Array([86_400_000n + 1_500n, 0n, 0n]), [true, false, false]),
      price: rawVector(new Decimal(2, 10, 128), decimalWords([12_345n, -5n, 0n], 4), [true, true, false]),
      huge: rawVector(new Decimal(3, 50, 256), decimalWords([-1_250n, 10n ** 45n, 0n], 8), [true, true, false]),
      nothing: vectorFromArray([null, null, null], new Null()),
    });

  it('should map every supported type, keep nulls and int64 beyond 2^53 exactly', async () => {
    const path = join(dir, 'mixed.arrow');
    await writeFile(path, tableToIPC(mixed(), 'file'));
    await withConnection(async (connection) => {
      assert.deepEqual(await loadArrowFile(connection, path, 't'), { rowCount: 3, batchCount: 1 });
      const types = Object.fromEntries(
        (await rows(connection, 'describe t')).map((r) => [r.column_name, r.column_type]),
      );
      assert.deepEqual(types, {
        id: 'INTEGER',
        big: 'BIGINT',
        ubig: 'UBIGINT',
        tiny: 'TINYINT',
        city: 'VARCHAR',
        note: 'VARCHAR',
        flag: 'BOOLEAN',
        half: 'FLOAT',
        ratio: 'DOUBLE',
        day: 'DATE',
        stamp_ms_tz: 'TIMESTAMP WITH TIME ZONE',
        stamp_ns: 'TIMESTAMP',
        stamp_s: 'TIMESTAMP',
        date64: 'TIMESTAMP',
        price: 'DECIMAL(10,2)',
        huge: 'DOUBLE',
        nothing: 'VARCHAR',
      });
      const got = await rows(
        connection,
        `select big::varchar as big, ubig::varchar as ubig, tiny, city, note, flag, half, ratio, day::varchar as day,
           epoch_us(stamp_ms_tz)::varchar as ms_tz, epoch_us(stamp_ns)::varchar as ns, epoch_us(stamp_s)::varchar as s,
           epoch_us(date64)::varchar as d64, price::varchar as price, huge, nothing
         from t order by id`,
      );
      assert.deepEqual(got, [
        {
          big: beyond53.toString(),
          ubig: (2n ** 64n - 1n).toString(),
          tiny: -128,
          city: 'Oslo',
          note: 'héllo',
          flag: true,
          half: 1.5,
          ratio: 0.5,
          day: '1970-01-01',
          ms_tz: '1577880000123000',
          ns: '1600000000123456',
          s: '1000000',
          d64: '86401500000',
          price: '123.45',
          huge: -1.25,
          nothing: null,
        },
        {
          big: null,
          ubig: '7',
          tiny: 0,
          city: null,
          note: '',
          flag: null,
          half: null,
          ratio: null,
          day: '1969-12-31',
          ms_tz: null,
          // -1 ns is floored to the microsecond before the epoch, not truncated to the epoch.
          ns: '-1',
          s: '0',
          d64: null,
          price: '-0.05',
          huge: 1e42,
          nothing: null,
        },
        {
          big: (-(2n ** 62n)).toString(),
          ubig: null,
          tiny: 127,
          city: 'Oslo',
          note: null,
          flag: false,
          half: -2,
          ratio: -1e300,
          day: null,
          ms_tz: '-1000',
          ns: null,
          s: '-86400000000',
          d64: null,
          price: null,
          huge: null,
          nothing: null,
        },
      ]);
    });
  });

  it('should read the stream format and many batches larger than a DuckDB vector', async () => {
    const batchRows = 3_000;
    const batch = (offset: number) => {
      const ids = Array.from({ length: batchRows }, (_, i) => offset + i);
      return new Table({
        id: vectorFromArray(ids, new Int32()),
        x: vectorFromArray(
          ids.map((i) => (i % 7 === 0 ? null : i / 4)),
          new Float64(),
        ),
        s: vectorFromArray(
          ids.map((i) => (i % 11 === 0 ? null : `k${i % 13}`)),
          new Utf8(),
        ),
      }).batches[0] as RecordBatch;
    };
    const batches = [batch(0), batch(batchRows), batch(2 * batchRows)];
    const table = new Table(batches);
    const path = join(dir, 'many.arrows');
    await writeFile(path, tableToIPC(table, 'stream'));
    const ids = Array.from({ length: 3 * batchRows }, (_, i) => i);
    const xs = ids.filter((i) => i % 7 !== 0).map((i) => i / 4);
    await withConnection(async (connection) => {
      assert.deepEqual(await loadArrowFile(connection, path, 't'), { rowCount: 3 * batchRows, batchCount: 3 });
      const [got] = await rows(
        connection,
        `select count(*)::int as n, sum(id)::int as ids, count(x)::int as xs, sum(x) as xsum,
           count(s)::int as ss, count(distinct s)::int as distinct_s, max(id)::int as last
         from t`,
      );
      assert.deepEqual(got, {
        n: ids.length,
        ids: ids.reduce((a, b) => a + b, 0),
        xs: xs.length,
        xsum: xs.reduce((a, b) => a + b, 0),
        ss: ids.filter((i) => i % 11 !== 0).length,
        distinct_s: 13,
        last: ids.length - 1,
      });
      const [row] = await rows(connection, 'select x, s from t where id = 5_006');
      assert.deepEqual(row, { x: 5006 / 4, s: `k${5006 % 13}` });
    });
  });

  it('should answer an unsupported type with a 400 naming the column and its Arrow type', async () => {
    const cases: [string, Table][] = [
      [
        'tags',
        new Table({
          id: vectorFromArray([1], new Int32()),
          tags: vectorFromArray([[1, 2]], new List(new Field('item', new Int32()))),
        }),
      ],
      ['raw', new Table({ raw: vectorFromArray([new Uint8Array([1, 2])], new Binary()) })],
    ];
    for (const [column, table] of cases) {
      const path = join(dir, `${column}.arrow`);
      await writeFile(path, tableToIPC(table, 'file'));
      await withConnection(async (connection) => {
        await assert.rejects(loadArrowFile(connection, path, 't'), (err: Error & { code: string; details: object }) => {
          assert.equal(err.code, 'INVALID_PARAMETER_VALUE');
          assert.match(err.message, new RegExp(`column "${column}" has Arrow type (List|Binary)`));
          assert.deepEqual(
            { ...err.details, arrowType: undefined },
            { path, format: 'arrow', field: 'file', column, arrowType: undefined },
          );
          return true;
        });
        // Nothing was created: the type is checked before the table.
        assert.deepEqual(await rows(connection, "select * from duckdb_tables() where table_name = 't'"), []);
      });
    }
  });

  it('should refuse column names DuckDB cannot tell apart, and struct columns', async () => {
    const twice = new Table({ a: vectorFromArray([1], new Int32()), A: vectorFromArray([2], new Int32()) });
    const path = join(dir, 'twice.arrow');
    await writeFile(path, tableToIPC(twice, 'file'));
    const point = new Struct([new Field('x', new Int32())]);
    const nested = new Table({ point: vectorFromArray([{ x: 1 }], point) });
    const nestedPath = join(dir, 'nested.arrow');
    await writeFile(nestedPath, tableToIPC(nested, 'file'));
    await withConnection(async (connection) => {
      await assert.rejects(loadArrowFile(connection, path, 't'), {
        code: 'INVALID_PARAMETER_VALUE',
        message: /column name "A" occurs twice \(ignoring case\)/,
      });
      await assert.rejects(loadArrowFile(connection, nestedPath, 't'), {
        message: /column "point" has Arrow type Struct/,
      });
    });
  });

  it('should load a file with a schema and no rows as an empty typed table', async () => {
    const empty = new Table(new Schema(mixed().schema.fields.slice(0, 3)));
    const path = join(dir, 'empty.arrow');
    await writeFile(path, tableToIPC(empty, 'file'));
    await withConnection(async (connection) => {
      assert.equal((await loadArrowFile(connection, path, 't')).rowCount, 0);
      assert.deepEqual(
        (await rows(connection, 'describe t')).map((r) => r.column_type),
        ['INTEGER', 'BIGINT', 'UBIGINT'],
      );
    });
  });
});
