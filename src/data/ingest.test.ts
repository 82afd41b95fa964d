import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type IngestedFile, ingestFile, sha256File } from './ingest.js';
import { logicalTypeOf } from './schema.js';
import { duckdbAnswer, PENGUINS_JSON, SEATTLE_CSV } from './testing/fixtures.js';

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
    dir = await mkdtemp(join(tmpdir(), 'kiln-ingest-test-'));
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
});

describe('ingestFile on bad input', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'kiln-ingest-bad-'));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it('should answer a missing file with RESOURCE_DOES_NOT_EXIST', async () => {
    await assert.rejects(ingestFile(join(dir, 'nope.csv')), {
      code: 'RESOURCE_DOES_NOT_EXIST',
      message: /does not exist/,
    });
  });

  it('should reject an empty file', async () => {
    const path = join(dir, 'empty.csv');
    await writeFile(path, '');
    await assert.rejects(ingestFile(path), { code: 'INVALID_PARAMETER_VALUE', message: /is empty/ });
  });

  it('should reject a .parquet file that is really CSV, naming the file', async () => {
    const path = join(dir, 'fake.parquet');
    await writeFile(path, 'a,b\n1,2\n'.repeat(200));
    await assert.rejects(ingestFile(path), (err: Error & { code: string }) => {
      assert.equal(err.code, 'INVALID_PARAMETER_VALUE');
      assert.match(err.message, /fake\.parquet.*as parquet/);
      return true;
    });
  });

  it('should name the line of a ragged CSV row', async () => {
    const rows = Array.from({ length: 50 }, (_, i) => `${i},x${i},${i * 2}`);
    rows.splice(30, 0, '99,x,3,9');
    const path = join(dir, 'ragged.csv');
    await writeFile(path, `a,b,c\n${rows.join('\n')}\n`);
    await assert.rejects(ingestFile(path), (err: Error & { code: string; details: { line: number } }) => {
      assert.equal(err.code, 'INVALID_PARAMETER_VALUE');
      assert.match(err.message, /ragged\.csv, line 32 as csv/);
      assert.equal(err.details.line, 32);
      return true;
    });
  });

  it('should reject malformed JSON and an unknown extension', async () => {
    const path = join(dir, 'broken.json');
    await writeFile(path, '[{"a": 1}, {"a": ');
    await assert.rejects(ingestFile(path), { code: 'INVALID_PARAMETER_VALUE', message: /broken\.json.*as json/ });
    const odd = join(dir, 'data.xyz');
    await writeFile(odd, 'a\n1\n');
    await assert.rejects(ingestFile(odd), { code: 'INVALID_PARAMETER_VALUE', message: /format/ });
  });

  it('should answer Arrow IPC with NOT_IMPLEMENTED, since this DuckDB build cannot read it', async () => {
    await assert.rejects(ingestFile(join(dir, 'x.arrow')), { code: 'NOT_IMPLEMENTED' });
  });
});
