import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseDeriveQuery, rewriteReferences } from './derive.js';

describe('parseDeriveQuery', () => {
  it('should find dataset references with and without versions, in text order', () => {
    const { sql, references } = parseDeriveQuery(
      "select * from dataset('flights', 3) f join DATASET ( 'airports' ) a on f.origin = a.iata;",
    );
    assert.ok(!sql.endsWith(';'), 'the trailing semicolon is removed');
    assert.deepEqual(
      references.map(({ dataset, version }) => ({ dataset, version })),
      [
        { dataset: 'flights', version: 3 },
        { dataset: 'airports', version: undefined },
      ],
    );
    const rewritten = rewriteReferences(sql, references, (_r, i) => `v${i}`);
    assert.equal(rewritten, 'select * from v0 f join v1 a on f.origin = a.iata');
  });

  it('should skip strings, quoted identifiers and comments, and unescape doubled quotes', () => {
    const { references } = parseDeriveQuery(
      [
        "select 'dataset(''x'', 1)' as s, \"dataset('y')\" -- dataset('z')",
        "/* dataset('w') */ from dataset('it''s', 2)",
      ].join('\n'),
    );
    assert.deepEqual(
      references.map((r) => [r.dataset, r.version]),
      [["it's", 2]],
    );
  });

  it('should not take a column or function merely named like dataset for a reference', () => {
    const { references } = parseDeriveQuery("select t.dataset, my_dataset('q') from dataset('flights')");
    assert.deepEqual(
      references.map((r) => r.dataset),
      ['flights'],
    );
  });

  it('should refuse what is not one query over datasets, naming the sql field', () => {
    const cases: [unknown, RegExp][] = [
      ['', /non-empty/],
      [42, /non-empty/],
      ['select 1', /at least one dataset/],
      ["select * from dataset('a', 1); drop table x", /single statement/],
      ["select * from dataset('a', 0)", /at least 1/],
      ['select * from dataset(flights)', /quoted name/],
      ["select 'open from dataset('a')", /unterminated string/],
      ["select * from dataset('a') /* open", /unterminated comment/],
      [`select * from dataset('a') where x = '${'y'.repeat(100_001)}'`, /longer than/],
    ];
    for (const [sql, message] of cases) {
      assert.throws(
        () => parseDeriveQuery(sql),
        (err: Error & { details?: { field?: string } }) => message.test(err.message) && err.details?.field === 'sql',
        String(sql).slice(0, 60),
      );
    }
  });
});
