import assert from 'node:assert/strict';
import { mkdir, mkdtemp, open, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, afterEach, before, describe, it } from 'node:test';
import { gzipSync } from 'node:zlib';
import { Field, Int32, List, Table, tableToIPC, Utf8, vectorFromArray } from 'apache-arrow';
import { KilnError } from '../core/index.js';
import { type IngestedFile, type IngestOptions, ingestFile, sha256File } from './ingest.js';
import { logicalTypeOf } from './schema.js';
import { duckdbAnswer, PENGUINS_JSON, SEATTLE_CSV, VEGA_DATA } from './testing/fixtures.js';

const FLIGHTS_ARROW = `${VEGA_DATA}flights-200k.arrow`;
const FLIGHTS_JSON = `${VEGA_DATA}flights-200k.json`;

/** Checks counts and storage types against DuckDB reading the same file directly. */
async function assertMatchesDuckdb(file: IngestedFile, reader: string): Promise<void> {
  const [count] = await duckdbAnswer(`select count(*) as n from ${reader}`);
  assert.equal(file.rowCount, Number(count?.n));
  const described = await duckdbAnswer(`describe select * from ${reader}`);
  assert.equal(file.columnCount, described.length);
  assert.deepEqual(
    file.schema.columns.map((c) => [c.name, c.physicalType]),
    described.map((row) => [row.column_name, row.column_type]),
  );
  for (const column of file.schema.columns) {
    const [nulls] = await duckdbAnswer(`select count(*) - count("${column.name}") as n from ${reader}`);
    assert.equal(column.nullable, Number(nulls?.n) > 0, column.name);
  }
}

describe('ingestFile on real data', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'kiln-test-ingest-'));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it('should read penguins.json with the types, counts and domains DuckDB reports', async () => {
    const file = await ingestFile(PENGUINS_JSON);
    try {
      assert.equal(file.format, 'json');
      assert.equal(file.digest, await sha256File(PENGUINS_JSON));
      await assertMatchesDuckdb(file, `read_json_auto('${PENGUINS_JSON}')`);
      const species = file.schema.columns.find((c) => c.name === 'Species');
      const domain = await duckdbAnswer(`select distinct Species as v from '${PENGUINS_JSON}' order by v`);
      assert.equal(species?.logicalType, 'categorical');
      assert.deepEqual(
        species?.domain,
        domain.map((row) => row.v),
      );
      assert.equal(file.schema.columns.find((c) => c.name === 'Body Mass (g)')?.logicalType, 'integer');
    } finally {
      await file.dispose();
    }
  });

  it('should read seattle-weather.csv with a datetime, floats and a categorical', async () => {
    const file = await ingestFile(SEATTLE_CSV);
    try {
      await assertMatchesDuckdb(file, `read_csv('${SEATTLE_CSV}', auto_detect=true)`);
      assert.deepEqual(
        file.schema.columns.map((c) => c.logicalType),
        ['datetime', 'float', 'float', 'float', 'float', 'categorical'],
      );
    } finally {
      await file.dispose();
    }
  });

  it('should give a CSV and a JSON export of one table equal logical schemas', async () => {
    const csv = join(dir, 'penguins.csv');
    await duckdbAnswer(`copy (select * from read_json_auto('${PENGUINS_JSON}')) to '${csv}' (format csv, header true)`);
    const [fromJson, fromCsv] = [await ingestFile(PENGUINS_JSON), await ingestFile(csv)];
    try {
      const logical = (f: IngestedFile) => f.schema.columns.map((c) => [c.name, c.logicalType, c.nullable, c.domain]);
      assert.deepEqual(logical(fromCsv), logical(fromJson));
      assert.equal(fromCsv.rowCount, fromJson.rowCount);
      assert.notEqual(fromCsv.digest, fromJson.digest, 'different bytes, different digest');
    } finally {
      await Promise.all([fromJson.dispose(), fromCsv.dispose()]);
    }
  });

  it('should honour CSV overrides for delimiter and header', async () => {
    const path = join(dir, 'semi.txt');
    await writeFile(path, '1;2.5;x\n2;3.5;y\n');
    const file = await ingestFile(path, { format: 'csv', csv: { delimiter: ';', header: false } });
    try {
      assert.equal(file.rowCount, 2);
      assert.deepEqual(
        file.schema.columns.map((c) => logicalTypeOf(c.physicalType)),
        ['integer', 'float', 'string'],
      );
    } finally {
      await file.dispose();
    }
  });

  it('should ingest flights-200k.arrow to the same rows as flights-200k.json, typed from the Arrow schema', async () => {
    const file = await ingestFile(FLIGHTS_ARROW);
    try {
      assert.equal(file.format, 'arrow');
      assert.equal(file.digest, await sha256File(FLIGHTS_ARROW));
      assert.equal(file.rowCount, 200_000);
      assert.deepEqual(
        file.schema.columns.map((c) => [c.name, c.physicalType, c.logicalType, c.nullable]),
        [
          ['delay', 'SMALLINT', 'integer', false],
          ['distance', 'SMALLINT', 'integer', false],
          ['time', 'FLOAT', 'float', false],
        ],
      );
      const json = `(select delay::smallint as delay, distance::smallint as distance, time::float as time from read_json_auto('${FLIGHTS_JSON}'))`;
      const [diff] = await duckdbAnswer(
        `select count(*) as n from (select * from read_parquet('${file.parquetPath}') except all select * from ${json})`,
      );
      assert.equal(Number(diff?.n), 0);
      const [truth] = await duckdbAnswer(`select min(delay) as lo, max(distance) as hi from ${json}`);
      const delay = file.profile.columns.delay;
      const distance = file.profile.columns.distance;
      assert.ok(delay?.kind === 'numeric' && distance?.kind === 'numeric');
      assert.equal(delay.min, truth?.lo);
      assert.equal(distance.max, truth?.hi);
    } finally {
      await file.dispose();
    }
  });

  it('should ingest the Arrow stream format, and an Arrow table with no rows as an empty typed version', async () => {
    const table = new Table({
      id: vectorFromArray([1, 2, 3], new Int32()),
      s: vectorFromArray(['a', null, 'c'], new Utf8()),
    });
    const stream = join(dir, 'rows.ipc');
    await writeFile(stream, tableToIPC(table, 'stream'));
    const empty = join(dir, 'empty.feather');
    await writeFile(empty, tableToIPC(table.slice(0, 0), 'file'));
    const [rows, none] = [await ingestFile(stream), await ingestFile(empty)];
    try {
      assert.equal(rows.rowCount, 3);
      assert.deepEqual(
        rows.schema.columns.map((c) => [c.name, c.physicalType, c.nullable]),
        [
          ['id', 'INTEGER', false],
          ['s', 'VARCHAR', true],
        ],
      );
      assert.equal(none.rowCount, 0);
      assert.deepEqual(
        none.schema.columns.map((c) => c.physicalType),
        ['INTEGER', 'VARCHAR'],
      );
    } finally {
      await Promise.all([rows.dispose(), none.dispose()]);
    }
  });

  it('should widen a CSV column of mixed values within the sniffed rows to text', async () => {
    const path = join(dir, 'mixed.csv');
    await writeFile(path, 'id,code\n1,10\n2,20\n3,A7\n4,40\n');
    const file = await ingestFile(path);
    try {
      assert.deepEqual(
        file.schema.columns.map((c) => [c.name, c.physicalType]),
        [
          ['id', 'BIGINT'],
          ['code', 'VARCHAR'],
        ],
      );
    } finally {
      await file.dispose();
    }
  });

  it('should accept a " inside unquoted CSV values, and UTF-8 characters split across read chunks', async () => {
    const path = join(dir, 'inches.csv');
    // 'é' is two bytes; padding puts the first one at the last byte of the first 1 MiB chunk.
    const pad = 'x'.repeat((1 << 20) - 'name,height\n'.length - 'bob,'.length - 1);
    await writeFile(path, `name,height\nbob,${pad}é\nal,6'0"\njo,5'11"\n`);
    const file = await ingestFile(path);
    try {
      assert.equal(file.rowCount, 3);
      const [row] = await duckdbAnswer(`select height from read_parquet('${file.parquetPath}') where name = 'jo'`);
      assert.equal(row?.height, `5'11"`);
    } finally {
      await file.dispose();
    }
  });
});

/** What a 400 for bad input must say: the field, and the line where one is known. */
interface Expected {
  field: 'path' | 'file' | 'format';
  line?: number;
  column?: string;
  message: RegExp;
}

async function assertBadInput(path: string, expected: Expected, options: IngestOptions = {}): Promise<KilnError> {
  let caught: unknown;
  try {
    const file = await ingestFile(path, options);
    await file.dispose();
  } catch (err) {
    caught = err;
  }
  assert.ok(caught instanceof KilnError, `expected a KilnError for ${path}, got ${String(caught)}`);
  assert.equal(caught.code, 'INVALID_PARAMETER_VALUE', caught.message);
  assert.equal(caught.status, 400);
  assert.ok(caught.message.includes(path), `message names the file: ${caught.message}`);
  assert.match(caught.message, expected.message);
  const details = caught.details as Record<string, unknown>;
  assert.equal(details.field, expected.field, caught.message);
  assert.equal(details.path, path);
  assert.equal(details.line, expected.line, caught.message);
  if (expected.line !== undefined) assert.match(caught.message, new RegExp(`\\(line ${expected.line}\\b`));
  assert.equal(details.column, expected.column);
  return caught;
}

describe('ingestFile on bad input', () => {
  let dir: string;
  let ingestTmp: string;
  const savedTmpdir = process.env.TMPDIR;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'kiln-test-ingest-bad-'));
    // ingestFile makes its temp directory under os.tmpdir(); a private one shows exactly what it leaves.
    ingestTmp = join(dir, 'tmp');
    await mkdir(ingestTmp);
    process.env.TMPDIR = ingestTmp;
  });
  afterEach(async () => {
    assert.deepEqual(
      (await readdir(ingestTmp)).filter((name) => name.startsWith('kiln-ingest-')),
      [],
      'a failed ingest left its temp directory behind',
    );
  });
  after(async () => {
    if (savedTmpdir === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = savedTmpdir;
    await rm(dir, { recursive: true, force: true });
  });

  const write = async (name: string, content: string | Uint8Array) => {
    const path = join(dir, name);
    await writeFile(path, content);
    return path;
  };

  it('should answer a missing file and a directory with field path', async () => {
    await assertBadInput(join(dir, 'nope.csv'), { field: 'path', message: /does not exist/ });
    const folder = join(dir, 'folder.csv');
    await mkdir(folder);
    await assertBadInput(folder, { field: 'path', message: /is a directory/ });
  });

  it('should reject an empty file, a whitespace-only file and a header-only CSV', async () => {
    await assertBadInput(await write('empty.csv', ''), { field: 'file', message: /the file is empty/ });
    await assertBadInput(await write('blank.csv', ' \n\n'), { field: 'file', message: /only whitespace/ });
    await assertBadInput(await write('header.csv', 'a,b,c\n'), { field: 'file', message: /no data rows/ });
    await assertBadInput(await write('empty.json', '[]'), { field: 'file', message: /no records/ });
  });

  it('should name the line of a ragged CSV row, too long or too short', async () => {
    const rows = Array.from({ length: 50 }, (_, i) => `${i},x${i},${i * 2}`);
    const long = [...rows];
    long.splice(30, 0, '99,x,3,9');
    await assertBadInput(await write('ragged.csv', `a,b,c\n${long.join('\n')}\n`), {
      field: 'file',
      line: 32,
      message: /expected 3 columns, found 4/,
    });
    const short = [...rows];
    short.splice(10, 0, '99,x');
    await assertBadInput(await write('short.csv', `a;b;c\n${short.join('\n').replaceAll(',', ';')}\n`), {
      field: 'file',
      line: 12,
      message: /expected 3 columns, found 2/,
    });
  });

  it('should name the line of an unterminated quote, early or far past the sniffed rows', async () => {
    await assertBadInput(await write('quote.csv', 'a,b\n1,x\n2,"y\n3,z\n4,w\n'), {
      field: 'file',
      line: 3,
      message: /quoted value is never closed/,
    });
    const rows = Array.from({ length: 40_000 }, (_, i) => `${i},v${i}`);
    rows[35_000] = '35000,"v';
    await assertBadInput(await write('late-quote.csv', `a,b\n${rows.join('\n')}\n`), {
      field: 'file',
      line: 35_002,
      message: /quoted value is never closed/,
    });
  });

  it('should name the line and column of a value that does not fit the type sniffed from earlier rows', async () => {
    const rows = Array.from({ length: 30_000 }, (_, i) => `${i},${i % 9}`);
    await assertBadInput(await write('late-text.csv', `n,k\n${rows.join('\n')}\noops,1\n7,7\n`), {
      field: 'file',
      line: 30_002,
      column: 'n',
      message: /"oops" is not a BIGINT/,
    });
    const records = Array.from({ length: 30_000 }, (_, i) => JSON.stringify({ n: i }));
    await assertBadInput(await write('late-text.ndjson', `${records.join('\n')}\n{"n":"oops"}\n`), {
      field: 'file',
      line: 30_001,
      message: /does not fit its inferred column type.*oops/,
    });
  });

  it('should reject a file whose declared format is wrong, saying what it looks like', async () => {
    const parquet = join(dir, 'real.parquet');
    await duckdbAnswer(`copy (select range as n from range(100)) to '${parquet}' (format parquet)`);
    const asCsv = await assertBadInput(
      parquet,
      { field: 'format', message: /not csv but looks like a Parquet file/ },
      { format: 'csv' },
    );
    assert.equal((asCsv.details as Record<string, unknown>).detected, 'parquet');
    const csv = await write('fake.parquet', 'a,b\n1,2\n'.repeat(200));
    await assertBadInput(csv, { field: 'format', message: /not parquet but looks like plain text/ });
    await assertBadInput(csv, { field: 'format', message: /not json but looks like plain text/ }, { format: 'json' });
    await assertBadInput(await write('garbage.arrow', 'GARBAGE\u0001\u0002 not arrow at all'), {
      field: 'format',
      message: /not arrow but looks like plain text/,
    });
    await assertBadInput(await write('array.ndjson', '[{"a":1},{"a":2}]'), {
      field: 'format',
      message: /not ndjson but looks like a JSON array \(format json\)/,
    });
    await assertBadInput(await write('packed.csv', gzipSync('a,b\n1,2\n')), {
      field: 'format',
      message: /gzip-compressed/,
    });
    const unknown = await write('data.xyz', 'a\n1\n');
    await assert.rejects(ingestFile(unknown), { code: 'INVALID_PARAMETER_VALUE', message: /format/ });
  });

  it('should reject a truncated Arrow file and an Arrow column of an unsupported type as bad content', async () => {
    const whole = await readFile(FLIGHTS_ARROW);
    await assertBadInput(await write('cut.arrow', whole.subarray(0, whole.length / 2)), {
      field: 'file',
      message: /as arrow: not a valid Arrow IPC file, or a truncated one/,
    });
    const nested = new Table({
      id: vectorFromArray([1], new Int32()),
      tags: vectorFromArray([[1, 2]], new List(new Field('item', new Int32()))),
    });
    await assertBadInput(await write('nested.arrow', tableToIPC(nested, 'file')), {
      field: 'file',
      column: 'tags',
      message: /column "tags" has Arrow type List<Int32>/,
    });
  });

  it('should name the line of a 50 MB CSV line at once, with the limit', async () => {
    const path = join(dir, 'one-line.csv');
    const handle = await open(path, 'w');
    const block = Buffer.alloc(1 << 20, 'x');
    for (let i = 0; i < 50; i++) await handle.write(block);
    await handle.close();
    await assertBadInput(path, {
      field: 'file',
      line: 1,
      message: /52428800 bytes long.*at most 2000000 bytes per line/,
    });
    const rows = Array.from({ length: 100 }, (_, i) => `${i},${i}`);
    rows[60] = `60,${'y'.repeat(2_500_000)}`;
    await assertBadInput(await write('late-long.csv', `a,b\n${rows.join('\n')}\n`), {
      field: 'file',
      line: 62,
      message: /2500003 bytes long/,
    });
  });

  it('should reject a JSON record over DuckDB maximum_object_size, saying the limit', async () => {
    const big = JSON.stringify({ a: 1, s: 'z'.repeat(34_000_000) });
    await assertBadInput(await write('big.ndjson', `{"a":2,"s":"y"}\n${big}\n`), {
      field: 'file',
      line: 2,
      message: /larger than DuckDB's maximum_object_size of 16777216 bytes/,
    });
    await assertBadInput(await write('big.json', `[${big}]`), {
      field: 'file',
      message: /larger than DuckDB's maximum_object_size of 16777216 bytes/,
    });
  });

  it('should name the line of invalid UTF-8, NUL bytes and malformed JSON', async () => {
    const lines = Array.from({ length: 40 }, (_, i) => Buffer.from(`${i},x${i}\n`));
    const latin1 = Buffer.concat([Buffer.from('a,b\n'), ...lines, Buffer.from('41,caf\xe9\n', 'latin1')]);
    await assertBadInput(await write('latin1.csv', latin1), {
      field: 'file',
      line: 42,
      message: /byte 7 of the line \(0xe9\) is not valid UTF-8/,
    });
    await assertBadInput(await write('nul.csv', 'a,b\n1,x\n2,y\u0000z\n'), {
      field: 'file',
      line: 3,
      message: /byte 4 of the line is a NUL byte/,
    });
    const utf16 = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from('a,b\n1,2\n', 'utf16le')]);
    await assertBadInput(await write('utf16.csv', utf16), { field: 'file', message: /UTF-16/ });
    await assertBadInput(await write('broken.ndjson', '{"a":1}\n{"a":2}\n{"a":3\n{"a":4}\n'), {
      field: 'file',
      line: 3,
      message: /malformed JSON/,
    });
    await assertBadInput(await write('broken.json', '[{"a": 1}, {"a": '), { field: 'file', message: /malformed JSON/ });
  });
});
