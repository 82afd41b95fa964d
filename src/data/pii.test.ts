import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { type DuckDBConnection, DuckDBInstance } from '@duckdb/node-api';
import type { DatasetSchema } from './model.js';
import { type PiiColumnReport, type PiiKind, piiProjection, scanPii } from './pii.js';
import { inferSchema, quoteLiteral } from './schema.js';
import { PENGUINS_JSON, VEGA_DATA } from './testing/fixtures.js';

/** Valid and invalid values per column; shorter lists are padded with NULL by DuckDB's unnest. */
const VALUES: Record<string, (string | null)[]> = {
  id_text: ['1', '2', '3', '17', '42', '1000', '123456', '9999999999'],
  year: ['1999', '2001', '2024', '1970'],
  airport: ['SFO', 'JFK', 'LAX', 'ORD', ''],
  email: [
    'ada@example.com',
    'j.doe+tag@mail.co.uk',
    "o'brien@example.ie",
    'x_y@sub-domain.example.org',
    'not-an-email',
    'a@b',
    'a..b@example.com',
    null,
  ],
  phone: [
    '+14155552671',
    '+44 20 7946 0958',
    '(555) 123-4567',
    '555-123-4567',
    '020 7946 0958',
    '+1 (800) 555-1234',
    '2001',
    '123456789012',
    '555-1234',
    '2001-01-01',
    '+123',
    '12:30',
  ],
  card: [
    '4111 1111 1111 1111',
    '4111-1111-1111-1111',
    '5500005555555559',
    '378282246310005',
    '6011111111111117',
    '4111 1111 1111 1112',
    '1234567812345670',
    '41111111',
  ],
  iban: [
    'GB82 WEST 1234 5698 7654 32',
    'GB82WEST12345698765432',
    'DE89 3704 0044 0532 0130 00',
    'FR1420041010050500013M02606',
    'GB83 WEST 1234 5698 7654 32',
    'GB82 WEST 1234',
  ],
  ip: [
    '192.168.0.1',
    '8.8.8.8',
    '255.255.255.255',
    '2001:db8::1',
    '::1',
    '2001:0db8:85a3:0000:0000:8a2e:0370:7334',
    '::ffff:192.0.2.128',
    '256.1.1.1',
    '1.2.3',
    '192.168.01.1',
    '2001:db8:::1',
    '12:30',
  ],
  ssn: [
    '123-45-6789',
    '001-01-0001',
    '899-99-9999',
    '666-12-3456',
    '000-12-3456',
    '900-12-3456',
    '123-00-4567',
    '123-45-0000',
    '123456789',
  ],
  nino: ['AB 12 34 56 C', 'AB123456C', 'jg103759a', 'BG123456A', 'DA123456A', 'AO123456A', 'AB123456E'],
  notes: ['call me at 555-123-4567', ' ada@example.com ', 'hello', 'SFO'],
  // Named like the scanner's own aliases.
  v: ['  x@example.com  ', 'x@example.com'],
  col: ['192.168.0.1'],
};

const TABLE = `(select 4111111111111111::bigint as card_as_integer, ${Object.entries(VALUES)
  .map(
    ([name, values]) =>
      `unnest([${values.map((v) => (v === null ? 'null' : quoteLiteral(v))).join(', ')}]::varchar[]) as ${name}`,
  )
  .join(', ')})`;

function entry(column: string, kind: PiiKind, matches: number, nonNull: number, threshold = 0.5): PiiColumnReport {
  const share = matches / nonNull;
  return { column, kind, matches, non_null: nonNull, share, flagged: share >= threshold };
}

describe('scanPii', () => {
  let instance: DuckDBInstance;
  let connection: DuckDBConnection;
  let schema: DatasetSchema;

  before(async () => {
    instance = await DuckDBInstance.create(':memory:');
    connection = await instance.connect();
    await connection.run(`create table people as select * from ${TABLE}`);
    schema = await inferSchema(connection, 'people', 12);
  });
  after(() => {
    connection.closeSync();
    instance.closeSync();
  });

  it('counts exactly the valid values of each kind and flags at the threshold', async () => {
    const report = await scanPii(connection, 'people', schema);
    assert.equal(report.rows_scanned, 12);
    assert.equal(report.threshold, 0.5);
    assert.deepEqual(report.columns, [
      entry('email', 'email', 4, 7),
      entry('phone', 'phone', 6, 12),
      entry('card', 'credit_card', 5, 8),
      entry('iban', 'iban', 4, 6),
      entry('ip', 'ip_address', 7, 12),
      entry('ssn', 'national_id', 3, 9),
      entry('nino', 'national_id', 3, 7),
      entry('notes', 'email', 1, 4),
      entry('v', 'email', 2, 2),
      entry('col', 'ip_address', 1, 1),
    ]);
    assert.deepEqual(
      report.columns.filter((c) => c.flagged).map((c) => c.column),
      ['email', 'phone', 'card', 'iban', 'ip', 'v', 'col'],
    );
  });

  it('takes the threshold and a sample of the first rows', async () => {
    const strict = await scanPii(connection, 'people', schema, { threshold: 0.6 });
    assert.deepEqual(
      strict.columns.filter((c) => c.flagged).map((c) => c.column),
      ['card', 'iban', 'v', 'col'],
    );
    const sample = await scanPii(connection, 'people', schema, { sampleRows: 4, threshold: 1 });
    assert.equal(sample.rows_scanned, 4);
    assert.deepEqual(sample.columns, [
      entry('email', 'email', 4, 4, 1),
      entry('phone', 'phone', 4, 4, 1),
      entry('card', 'credit_card', 4, 4, 1),
      entry('iban', 'iban', 4, 4, 1),
      entry('ip', 'ip_address', 4, 4, 1),
      entry('ssn', 'national_id', 3, 4, 1),
      entry('nino', 'national_id', 3, 4, 1),
      entry('notes', 'email', 1, 4, 1),
      entry('v', 'email', 2, 2, 1),
      entry('col', 'ip_address', 1, 1, 1),
    ]);
  });

  it('reports no value, only counts', async () => {
    const text = JSON.stringify(await scanPii(connection, 'people', schema));
    for (const value of ['example', '4111', 'WEST', '192.168', '6789']) assert.ok(!text.includes(value), value);
  });

  it('rejects a bad threshold or sample size, naming the option', async () => {
    await assert.rejects(scanPii(connection, 'people', schema, { threshold: 1.5 }), {
      code: 'INVALID_PARAMETER_VALUE',
      details: { field: 'threshold' },
    });
    await assert.rejects(scanPii(connection, 'people', schema, { sampleRows: 0 }), {
      code: 'INVALID_PARAMETER_VALUE',
      details: { field: 'sampleRows' },
    });
  });

  it('finds nothing in the real flights and penguins data', async () => {
    for (const [relation, rows] of [
      [`read_parquet(${quoteLiteral(`${VEGA_DATA}flights-3m.parquet`)})`, 3_000_000],
      [`read_json_auto(${quoteLiteral(PENGUINS_JSON)})`, 344],
    ] as const) {
      const report = await scanPii(connection, relation, await inferSchema(connection, relation, rows));
      assert.equal(report.rows_scanned, rows);
      assert.deepEqual(report.columns, [], relation);
    }
  });
});

describe('piiProjection', () => {
  const schema: DatasetSchema = {
    columns: [
      { name: 'id', logicalType: 'integer', physicalType: 'INTEGER', nullable: false },
      { name: 'e-mail "work"', logicalType: 'string', physicalType: 'VARCHAR', nullable: true },
      { name: 'card', logicalType: 'string', physicalType: 'VARCHAR', nullable: true },
    ],
  };
  const data = `(select * from (values
      (1, 'ada@example.com', '4111 1111 1111 1111'),
      (2, 'Jürgen.Müller@example.de', 'ab-c'),
      (3, null, null)
    ) t(id, "e-mail ""work""", card))`;

  async function run(list: string): Promise<Record<string, unknown>[]> {
    const instance = await DuckDBInstance.create(':memory:');
    try {
      const connection = await instance.connect();
      try {
        return (await connection.runAndReadAll(`select ${list} from ${data} order by id`)).getRowObjectsJson();
      } finally {
        connection.closeSync();
      }
    } finally {
      instance.closeSync();
    }
  }

  it('masks letters and digits but the last four characters, keeping separators and nulls', async () => {
    const rows = await run(piiProjection(schema, { action: 'mask', columns: ['card', 'e-mail "work"'] }));
    assert.deepEqual(rows, [
      { id: 1, 'e-mail "work"': '***@*******.com', card: '**** **** **** 1111' },
      { id: 2, 'e-mail "work"': '******.******@******e.de', card: '**-*' },
      { id: 3, 'e-mail "work"': null, card: null },
    ]);
  });

  it('hashes with sha256 hex and drops, keeping the schema order', async () => {
    const sha = (text: string) => createHash('sha256').update(text).digest('hex');
    assert.deepEqual(await run(piiProjection(schema, { action: 'hash', columns: ['e-mail "work"'] })), [
      { id: 1, 'e-mail "work"': sha('ada@example.com'), card: '4111 1111 1111 1111' },
      { id: 2, 'e-mail "work"': sha('Jürgen.Müller@example.de'), card: 'ab-c' },
      { id: 3, 'e-mail "work"': null, card: null },
    ]);
    const dropped = await run(piiProjection(schema, { action: 'drop', columns: ['e-mail "work"'] }));
    assert.deepEqual(dropped[0], { id: 1, card: '4111 1111 1111 1111' });
    assert.equal(piiProjection(schema, { action: 'mask', columns: [] }), '"id", "e-mail ""work""", "card"');
  });

  it('rejects unknown columns, unknown actions and dropping everything', () => {
    assert.throws(() => piiProjection(schema, { action: 'mask', columns: ['card', 'ssn'] }), {
      code: 'INVALID_PARAMETER_VALUE',
      details: { field: 'pii.columns[1]', column: 'ssn' },
    });
    assert.throws(() => piiProjection(schema, { action: 'drop', columns: ['id', 'e-mail "work"', 'card'] }), {
      details: { field: 'pii.columns' },
    });
    assert.throws(() => piiProjection(schema, JSON.parse('{"action":"blur","columns":["card"]}')), {
      details: { field: 'pii.action' },
    });
  });
});
