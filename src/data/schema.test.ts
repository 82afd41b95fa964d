import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DuckDBInstance } from '@duckdb/node-api';
import type { DatasetSchema } from './model.js';
import { diffSchemas, inferSchema, logicalTypeOf } from './schema.js';

describe('logicalTypeOf', () => {
  it('should map DuckDB storage types to logical types', () => {
    const cases: [string, string][] = [
      ['BIGINT', 'integer'],
      ['UTINYINT', 'integer'],
      ['DOUBLE', 'float'],
      ['DECIMAL(9,2)', 'float'],
      ['BOOLEAN', 'boolean'],
      ['DATE', 'datetime'],
      ['TIMESTAMP WITH TIME ZONE', 'datetime'],
      ['VARCHAR', 'string'],
    ];
    for (const [duck, logical] of cases) assert.equal(logicalTypeOf(duck), logical, duck);
  });
});

describe('inferSchema', () => {
  it('should find nullability and categorical domains within the limits', async () => {
    const instance = await DuckDBInstance.create(':memory:');
    const connection = await instance.connect();
    try {
      await connection.run(
        `create table t as select i as id, case when i % 10 = 0 then null else i * 0.5 end as x,
           ['red', 'green', 'blue'][i % 3 + 1] as colour, 'name-' || i as label
         from range(1, 201) r(i)`,
      );
      const schema = await inferSchema(connection, 't', 200);
      assert.deepEqual(
        schema.columns.map((c) => [c.name, c.logicalType, c.nullable]),
        [
          ['id', 'integer', false],
          ['x', 'float', true],
          ['colour', 'categorical', false],
          ['label', 'string', false],
        ],
      );
      assert.deepEqual(schema.columns[2]?.domain, ['blue', 'green', 'red']);
      const strict = await inferSchema(connection, 't', 200, { maxDistinct: 2, maxShare: 1 });
      assert.equal(strict.columns[2]?.logicalType, 'string', 'three values exceed a limit of two');
    } finally {
      connection.closeSync();
      instance.closeSync();
    }
  });
});

describe('diffSchemas', () => {
  const a: DatasetSchema = {
    columns: [
      { name: 'id', logicalType: 'integer', physicalType: 'BIGINT', nullable: false },
      { name: 'price', logicalType: 'integer', physicalType: 'BIGINT', nullable: false },
      { name: 'gone', logicalType: 'string', physicalType: 'VARCHAR', nullable: true },
    ],
  };
  const b: DatasetSchema = {
    columns: [
      { name: 'id', logicalType: 'integer', physicalType: 'INTEGER', nullable: true },
      { name: 'price', logicalType: 'float', physicalType: 'DOUBLE', nullable: false },
      { name: 'new', logicalType: 'boolean', physicalType: 'BOOLEAN', nullable: false },
    ],
  };

  it('should report added, removed, retyped and nullability changes by name', () => {
    const diff = diffSchemas(a, b);
    assert.deepEqual(
      diff.added.map((c) => c.name),
      ['new'],
    );
    assert.deepEqual(
      diff.removed.map((c) => c.name),
      ['gone'],
    );
    assert.deepEqual(diff.retyped, [{ name: 'price', from: 'integer', to: 'float' }]);
    assert.deepEqual(diff.nullabilityChanged, ['id']);
  });

  it('should report nothing between a schema and itself', () => {
    assert.deepEqual(diffSchemas(a, a), { added: [], removed: [], retyped: [], nullabilityChanged: [] });
  });
});
