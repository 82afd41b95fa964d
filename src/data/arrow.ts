import { open } from 'node:fs/promises';
import {
  BIGINT,
  BOOLEAN,
  DATE,
  DECIMAL,
  DOUBLE,
  type DuckDBConnection,
  DuckDBDataChunk,
  DuckDBDateValue,
  DuckDBDecimalValue,
  DuckDBTimestampTZValue,
  DuckDBTimestampValue,
  type DuckDBType,
  type DuckDBValue,
  DuckDBVector,
  FLOAT,
  INTEGER,
  SMALLINT,
  TIMESTAMP,
  TIMESTAMPTZ,
  TINYINT,
  UBIGINT,
  UINTEGER,
  USMALLINT,
  UTINYINT,
  VARCHAR,
} from '@duckdb/node-api';
import {
  type Data,
  DateUnit,
  type Decimal,
  type Dictionary,
  type Field,
  type Float,
  type Int,
  makeVector,
  Precision,
  RecordBatchReader,
  type Timestamp,
  TimeUnit,
  Type,
  util,
  type Vector,
} from 'apache-arrow';
import { KilnError } from '../core/index.js';
import { quoteIdent } from './schema.js';

/** What loading one Arrow IPC file produced. */
export interface ArrowLoad {
  rowCount: number;
  batchCount: number;
}

/** Reads value `index` of one Arrow batch column as the DuckDB value its vector takes. */
type ValueReader = (index: number) => DuckDBValue;

/** How one Arrow column becomes a DuckDB column: the DuckDB type, and a reader per batch. */
interface ColumnPlan {
  name: string;
  duckType: DuckDBType;
  reader(data: Data): ValueReader;
}

/** DuckDB's widest DECIMAL; wider Arrow decimals become DOUBLE. */
const MAX_DUCKDB_DECIMAL_PRECISION = 38;

const SIGNED_INTS: Record<number, DuckDBType> = { 8: TINYINT, 16: SMALLINT, 32: INTEGER, 64: BIGINT };
const UNSIGNED_INTS: Record<number, DuckDBType> = { 8: UTINYINT, 16: USMALLINT, 32: UINTEGER, 64: UBIGINT };
const MICROS_PER_UNIT: Record<TimeUnit, bigint> = {
  [TimeUnit.SECOND]: 1_000_000n,
  [TimeUnit.MILLISECOND]: 1_000n,
  [TimeUnit.MICROSECOND]: 1n,
  [TimeUnit.NANOSECOND]: 1n,
};

/** Numbers and bigints are stored as-is: Arrow's value arrays hold exactly what DuckDB's vectors take. */
function plainValues(data: Data): ValueReader {
  const values = data.values as ArrayLike<number | bigint>;
  return (index) => values[index] as number | bigint;
}

function boolValues(data: Data): ValueReader {
  const { values, offset } = data as Data & { values: Uint8Array };
  return (index) => {
    const bit = offset + index;
    return ((values[bit >> 3] as number) & (1 << (bit & 7))) !== 0;
  };
}

function float16Values(data: Data): ValueReader {
  const values = data.values as Uint16Array;
  return (index) => util.uint16ToFloat64(values[index] as number);
}

/** Utf8 and LargeUtf8: slices of one byte buffer, decoded by Node without copying the buffer. */
function utf8Values(data: Data): ValueReader {
  const bytes = Buffer.from(data.values.buffer, data.values.byteOffset, data.values.byteLength);
  const offsets = data.valueOffsets as ArrayLike<number | bigint>;
  return (index) => bytes.toString('utf8', Number(offsets[index]), Number(offsets[index + 1]));
}

/** Any other string layout (Utf8View) through Arrow's own accessor. */
function vectorValues(data: Data): ValueReader {
  const vector = makeVector(data) as Vector;
  return (index) => vector.get(index) as string;
}

/** Per dictionary vector, the strings decoded so far by key (null where the dictionary holds a null). */
type DecodedDictionaries = WeakMap<Vector, (string | null | undefined)[]>;

/**
 * Dictionary<string>: each key's string is decoded once per dictionary, on first use, so a batch
 * costs its distinct keys in decoding, not its rows.
 */
function dictionaryValues(decoded: DecodedDictionaries): (data: Data) => ValueReader {
  return (data) => {
    const dictionary = data.dictionary as Vector;
    let strings = decoded.get(dictionary);
    if (strings === undefined) {
      strings = [];
      decoded.set(dictionary, strings);
    }
    const cache = strings;
    const keys = data.values as ArrayLike<number | bigint>;
    return (index) => {
      const key = Number(keys[index]);
      let text = cache[key];
      if (text === undefined) {
        text = dictionary.get(key) as string | null;
        cache[key] = text;
      }
      return text;
    };
  };
}

/** Floor division, so instants before 1970 round towards the past like every later one. */
function floorDiv(value: bigint, divisor: bigint): bigint {
  const quotient = value / divisor;
  return value % divisor < 0n ? quotient - 1n : quotient;
}

function timestampValues(type: Timestamp): (data: Data) => ValueReader {
  const scale = MICROS_PER_UNIT[type.unit];
  const toMicros = type.unit === TimeUnit.NANOSECOND ? (v: bigint) => floorDiv(v, 1_000n) : (v: bigint) => v * scale;
  const withZone = type.timezone !== null && type.timezone !== undefined && type.timezone !== '';
  return (data) => {
    const values = data.values as BigInt64Array;
    return withZone
      ? (index) => new DuckDBTimestampTZValue(toMicros(values[index] as bigint))
      : (index) => new DuckDBTimestampValue(toMicros(values[index] as bigint));
  };
}

/** Little-endian 32-bit words, two's complement over the type's bit width. */
function decimalUnscaled(words: Uint32Array, start: number, stride: number, bitWidth: number): bigint {
  let value = 0n;
  for (let w = stride - 1; w >= 0; w--) value = (value << 32n) | BigInt(words[start + w] as number);
  return BigInt.asIntN(bitWidth, value);
}

function decimalValues(type: Decimal, asDouble: boolean): (data: Data) => ValueReader {
  const stride = type.bitWidth / 32;
  return (data) => {
    const words = data.values as Uint32Array;
    return asDouble
      ? // Parsing `<digits>e-<scale>` rounds once, exactly; dividing by 10^scale would round twice.
        (index) => Number(`${decimalUnscaled(words, index * stride, stride, type.bitWidth)}e-${type.scale}`)
      : (index) =>
          new DuckDBDecimalValue(
            decimalUnscaled(words, index * stride, stride, type.bitWidth),
            type.precision,
            type.scale,
          );
  };
}

function unsupported(path: string, field: Field): KilnError {
  return new KilnError(
    'INVALID_PARAMETER_VALUE',
    `cannot read ${path} as arrow: column "${field.name}" has Arrow type ${String(field.type)}, which Kiln cannot ingest ` +
      '(supported: integers, floats, booleans, strings, string dictionaries, dates, timestamps, decimals)',
    { path, format: 'arrow', field: 'file', column: field.name, arrowType: String(field.type) },
  );
}

/** The DuckDB column an Arrow field becomes, or a 400 naming the column and its Arrow type. */
function planColumn(path: string, field: Field, decoded: DecodedDictionaries): ColumnPlan {
  const { name, type } = field;
  const plan = (duckType: DuckDBType, reader: (data: Data) => ValueReader): ColumnPlan => ({ name, duckType, reader });
  switch (type.typeId) {
    case Type.Int: {
      const int = type as Int;
      const duckType = (int.isSigned ? SIGNED_INTS : UNSIGNED_INTS)[int.bitWidth];
      if (duckType === undefined) throw unsupported(path, field);
      return plan(duckType, plainValues);
    }
    case Type.Float: {
      const precision = (type as Float).precision;
      if (precision === Precision.HALF) return plan(FLOAT, float16Values);
      return plan(precision === Precision.SINGLE ? FLOAT : DOUBLE, plainValues);
    }
    case Type.Bool:
      return plan(BOOLEAN, boolValues);
    case Type.Null:
      // A column with no values at all: VARCHAR, as DuckDB's CSV sniffer types an empty column.
      return plan(VARCHAR, () => () => null);
    case Type.Utf8:
    case Type.LargeUtf8:
      return plan(VARCHAR, utf8Values);
    case Type.Utf8View:
      return plan(VARCHAR, vectorValues);
    case Type.Dictionary: {
      const valueType = (type as Dictionary).dictionary.typeId;
      if (valueType !== Type.Utf8 && valueType !== Type.LargeUtf8 && valueType !== Type.Utf8View) {
        throw unsupported(path, field);
      }
      return plan(VARCHAR, dictionaryValues(decoded));
    }
    case Type.Date:
      // Date64 counts milliseconds, so it can carry a time of day: TIMESTAMP keeps it.
      if ((type as { unit: DateUnit }).unit === DateUnit.DAY) {
        return plan(DATE, (data) => {
          const days = data.values as Int32Array;
          return (index) => new DuckDBDateValue(days[index] as number);
        });
      }
      return plan(TIMESTAMP, (data) => {
        const millis = data.values as BigInt64Array;
        return (index) => new DuckDBTimestampValue((millis[index] as bigint) * 1_000n);
      });
    case Type.Timestamp: {
      const timestamp = type as Timestamp;
      return plan(timestamp.timezone ? TIMESTAMPTZ : TIMESTAMP, timestampValues(timestamp));
    }
    case Type.Decimal: {
      const decimal = type as Decimal;
      const asDouble = decimal.precision > MAX_DUCKDB_DECIMAL_PRECISION;
      return plan(asDouble ? DOUBLE : DECIMAL(decimal.precision, decimal.scale), decimalValues(decimal, asDouble));
    }
    default:
      throw unsupported(path, field);
  }
}

/** DuckDB compares identifiers case-insensitively, so `a` and `A` would collide in one table. */
function checkNames(path: string, plans: ColumnPlan[]): void {
  const seen = new Set<string>();
  if (plans.length === 0) {
    throw new KilnError('INVALID_PARAMETER_VALUE', `cannot read ${path} as arrow: its schema has no columns`, {
      path,
      format: 'arrow',
      field: 'file',
    });
  }
  for (const { name } of plans) {
    const key = name.toLowerCase();
    if (name === '' || seen.has(key)) {
      const problem = name === '' ? 'a column has an empty name' : `column name "${name}" occurs twice (ignoring case)`;
      throw new KilnError('INVALID_PARAMETER_VALUE', `cannot read ${path} as arrow: ${problem}`, {
        path,
        format: 'arrow',
        field: 'file',
        column: name,
      });
    }
    seen.add(key);
  }
}

/** Fills `chunk` with rows `from .. from + count` of one batch, column by column through typed vectors. */
function fillChunk(
  path: string,
  chunk: DuckDBDataChunk,
  plans: ColumnPlan[],
  columns: readonly Data[],
  from: number,
  count: number,
  firstRow: number,
): void {
  plans.forEach((plan, c) => {
    const data = columns[c] as Data;
    const vector = chunk.getColumnVector(c) as DuckDBVector;
    const read = plan.reader(data);
    let i = 0;
    try {
      if (data.nullCount === 0) {
        for (; i < count; i++) vector.setItem(i, read(from + i));
      } else {
        for (; i < count; i++) vector.setItem(i, data.getValid(from + i) ? read(from + i) : null);
      }
      vector.flush();
    } catch (err) {
      const row = firstRow + from + i + 1;
      const cause = err instanceof Error ? err.message : String(err);
      throw new KilnError(
        'INVALID_PARAMETER_VALUE',
        `cannot read ${path} as arrow: row ${row}, column "${plan.name}": ${cause}`,
        {
          path,
          format: 'arrow',
          field: 'file',
          row,
          column: plan.name,
        },
      );
    }
  });
}

/**
 * Streams an Arrow IPC file (file or stream format) into a new DuckDB table, batch by batch: only
 * one record batch is in the JS heap at a time, and each is cut into DuckDB data chunks whose
 * typed vectors are filled and handed to an appender. The npm DuckDB build has no arrow extension,
 * so this is the only way Arrow reaches DuckDB here.
 *
 * Types: Int8..Int64 and Uint8..Uint64 → the same-width DuckDB integers; Float16/32 → FLOAT,
 * Float64 → DOUBLE; Bool → BOOLEAN; Null → VARCHAR (all null); Utf8, LargeUtf8, Utf8View and dictionaries of them → VARCHAR;
 * Date32 → DATE; Date64 → TIMESTAMP; Timestamp of any unit → TIMESTAMP, or TIMESTAMPTZ when it has
 * a time zone (nanoseconds are floored to microseconds); Decimal → DECIMAL(p, s), DOUBLE beyond
 * precision 38. Any other type is a 400 naming the column and its Arrow type. Nulls stay null.
 *
 * @example
 * const { rowCount } = await loadArrowFile(connection, '/data/flights-200k.arrow', 'kiln_arrow');
 * await connection.run(`copy kiln_arrow to '/tmp/x.parquet' (format parquet)`);
 */
export async function loadArrowFile(connection: DuckDBConnection, path: string, table: string): Promise<ArrowLoad> {
  const handle = await open(path, 'r');
  try {
    // A FileHandle gives Arrow random access: with a read stream, the file format is buffered whole.
    const reader = await RecordBatchReader.from(handle);
    await reader.open();
    const decoded: DecodedDictionaries = new WeakMap();
    const plans = reader.schema.fields.map((field) => planColumn(path, field, decoded));
    checkNames(path, plans);
    const columns = plans.map((p) => `${quoteIdent(p.name)} ${p.duckType}`).join(', ');
    await connection.run(`create table ${quoteIdent(table)} (${columns})`);
    const appender = await connection.createAppender(table);
    const types = plans.map((p) => p.duckType);
    const chunkRows = DuckDBVector.standardSize();
    let rowCount = 0;
    let batchCount = 0;
    try {
      for await (const batch of reader) {
        const columnData = batch.data.children;
        for (let from = 0; from < batch.numRows; from += chunkRows) {
          const count = Math.min(chunkRows, batch.numRows - from);
          const chunk = DuckDBDataChunk.create(types, count);
          fillChunk(path, chunk, plans, columnData, from, count, rowCount);
          appender.appendDataChunk(chunk);
        }
        rowCount += batch.numRows;
        batchCount += 1;
      }
      appender.flushSync();
    } catch (err) {
      appender.clear();
      throw err;
    } finally {
      appender.closeSync();
    }
    return { rowCount, batchCount };
  } finally {
    await handle.close();
  }
}
