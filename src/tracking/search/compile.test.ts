import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  DummyDriver,
  Kysely,
  PostgresAdapter,
  PostgresIntrospector,
  PostgresQueryCompiler,
  SqliteAdapter,
  SqliteIntrospector,
  SqliteQueryCompiler,
} from 'kysely';
import { KilnError } from '../../core/index.js';
import type { SqlDialect } from '../../store/index.js';
import { applyFilter, applySearch, filterCondition, type SearchDescriptor } from './compile.js';
import { likeParts, likePatternProblem, renderGlob, renderLike } from './like.js';
import { prepareSearch } from './plan.js';
import { RUNS_DESCRIPTOR, type SearchTables } from './testing/fixture.js';

/** Compile-only handles: no connection is ever opened. */
const sqlite = new Kysely<SearchTables>({
  dialect: {
    createAdapter: () => new SqliteAdapter(),
    createDriver: () => new DummyDriver(),
    createIntrospector: (db) => new SqliteIntrospector(db),
    createQueryCompiler: () => new SqliteQueryCompiler(),
  },
});
const postgres = new Kysely<SearchTables>({
  dialect: {
    createAdapter: () => new PostgresAdapter(),
    createDriver: () => new DummyDriver(),
    createIntrospector: (db) => new PostgresIntrospector(db),
    createQueryCompiler: () => new PostgresQueryCompiler(),
  },
});

function compileRuns(dialect: SqlDialect, filter: string, orderBy: string[] = []) {
  const db = dialect === 'sqlite' ? sqlite : postgres;
  const plan = prepareSearch('runs', { filter, orderBy });
  return applySearch(db.selectFrom('runs').select('runs.run_id'), plan, RUNS_DESCRIPTOR, dialect).compile();
}

describe('LIKE patterns', () => {
  it('splits patterns into text and wildcards, undoing backslash escapes', () => {
    assert.deepEqual(likeParts('a\\%b_%'), [{ kind: 'text', text: 'a%b' }, { kind: 'one' }, { kind: 'any' }]);
    assert.deepEqual(likeParts('\\\\x'), [{ kind: 'text', text: '\\x' }]);
    assert.deepEqual(likeParts(''), []);
  });

  it('renders for LIKE … ESCAPE and for GLOB', () => {
    const table: Array<[string, string, string]> = [
      ['abc', 'abc', 'abc'],
      ['a%', 'a%', 'a*'],
      ['a_c', 'a_c', 'a?c'],
      ['50\\%', '50!%', '50%'],
      ['a\\_b', 'a!_b', 'a_b'],
      ['x*y?z[1]', 'x*y?z[1]', 'x[*]y[?]z[[]1]'],
      ['wow!', 'wow!!', 'wow!'],
      ['%\\\\%', '%\\%', '*\\*'],
    ];
    for (const [pattern, like, glob] of table) {
      assert.equal(renderLike(likeParts(pattern)), like, pattern);
      assert.equal(renderGlob(likeParts(pattern)), glob, pattern);
    }
  });

  it('flags a pattern ending with a lone escape character', () => {
    assert.equal(likePatternProblem('ab\\'), 'ends with a lone escape character \\');
    assert.equal(likePatternProblem('ab\\\\'), undefined);
    assert.equal(likePatternProblem('ab\\\\\\'), 'ends with a lone escape character \\');
  });
});

describe('compiling filters', () => {
  it('binds every literal and key; the SQL text holds none of them', () => {
    const filter = "params.model = 'drop''table' AND tags.\"my key\" LIKE 'x%' AND metrics.acc > 0.25";
    for (const dialect of ['sqlite', 'postgres'] as const) {
      const { sql, parameters } = compileRuns(dialect, filter);
      assert.ok(!sql.includes('drop'), sql);
      assert.ok(!sql.includes('my key'), sql);
      assert.ok(!sql.includes('0.25'), sql);
      assert.deepEqual(parameters, ['model', "drop'table", 'my key', dialect === 'sqlite' ? 'x*' : 'x%', 'acc', 0.25]);
    }
  });

  it('uses GLOB for LIKE and lower() LIKE for ILIKE on SQLite', () => {
    const { sql } = compileRuns('sqlite', "params.a LIKE 'x' AND params.b ILIKE 'y'");
    assert.match(sql, /"kiln_filter_0"\."value" glob \?/);
    assert.match(sql, /lower\("kiln_filter_1"\."value"\) like lower\(\?\) escape '!'/);
  });

  it('uses native LIKE and ILIKE with an explicit escape on PostgreSQL', () => {
    const { sql } = compileRuns('postgres', "params.a LIKE 'x' AND params.b ILIKE 'y'");
    assert.match(sql, /"kiln_filter_0"\."value" like \$\d+ escape '!'/);
    assert.match(sql, /"kiln_filter_1"\."value" ilike \$\d+ escape '!'/);
  });

  it('excludes NaN metrics from numeric comparisons and correlates on the owner', () => {
    const { sql } = compileRuns('sqlite', 'metrics.acc != 1');
    assert.match(
      sql,
      /exists \(select 1 from "latest_metrics" as "kiln_filter_0" where "kiln_filter_0"\."run_id" = "runs"\."run_id" and "kiln_filter_0"\."key" = \? and not "kiln_filter_0"\."is_nan" and "kiln_filter_0"\."value" <> \?\)/,
    );
  });

  it('casts fractional numbers on PostgreSQL only', () => {
    assert.match(
      compileRuns('postgres', 'start_time > 1.5').sql,
      /"runs"\."start_time" > cast\(\$1 as double precision\)/,
    );
    assert.match(compileRuns('postgres', 'start_time > 15').sql, /"runs"\."start_time" > \$1/);
    assert.match(compileRuns('sqlite', 'start_time > 1.5').sql, /"runs"\."start_time" > \?/);
  });

  it('turns epoch milliseconds into ISO text for ISO-timestamp columns', () => {
    const compiled = compileRuns('sqlite', 'end_time >= 1700000000000.5');
    assert.deepEqual(compiled.parameters, ['2023-11-14T22:13:20.001Z']);
    assert.match(compileRuns('sqlite', 'end_time > 1e17').sql, /1 = 0/);
    assert.match(compileRuns('sqlite', 'end_time != 1e17').sql, /"runs"\."end_time" is not null/);
  });

  it('compiles the empty filter to nothing', () => {
    assert.equal(filterCondition([], RUNS_DESCRIPTOR, 'sqlite'), undefined);
    const query = sqlite.selectFrom('runs').select('run_id');
    assert.equal(applyFilter(query, [], RUNS_DESCRIPTOR, 'sqlite'), query);
  });
});

describe('compiling orderings', () => {
  it('collates text by code point on PostgreSQL and puts nulls last', () => {
    const { sql } = compileRuns('postgres', '', ['run_name DESC']);
    assert.match(
      sql,
      /order by "runs"\."run_name" collate "C" desc nulls last, "runs"\."start_time" desc nulls last, "runs"\."run_id" collate "C" asc nulls last$/,
    );
    assert.doesNotMatch(compileRuns('sqlite', '', ['run_name']).sql, /collate/);
  });

  it('joins one subquery per keyed clause and orders metrics by bucket then value', () => {
    const { sql, parameters } = compileRuns('sqlite', '', ['metrics.acc DESC', 'params.p']);
    assert.match(
      sql,
      /left join \(select "run_id" as "kiln_sort_0_owner_0", "value" as "kiln_sort_0_value", "is_nan" as "kiln_sort_0_nan" from "latest_metrics" where "key" = \?\) as "kiln_sort_0"/,
    );
    assert.match(
      sql,
      /left join \(select "run_id" as "kiln_sort_1_owner_0", "value" as "kiln_sort_1_value" from "params" where "key" = \?\) as "kiln_sort_1"/,
    );
    assert.match(
      sql,
      /order by case when "kiln_sort_0"\."kiln_sort_0_owner_0" is null then 2 when "kiln_sort_0"\."kiln_sort_0_nan" then 1 else 0 end asc, "kiln_sort_0"\."kiln_sort_0_value" desc, "kiln_sort_1"\."kiln_sort_1_value" asc nulls last/,
    );
    assert.deepEqual(parameters, ['acc', 'p']);
  });
});

describe('descriptor problems', () => {
  const misconfigured = (descriptor: SearchDescriptor, filter: string, fragment: string): void => {
    const plan = prepareSearch('runs', { filter });
    assert.throws(
      () => applySearch(sqlite.selectFrom('runs').select('run_id'), plan, descriptor, 'sqlite'),
      (err: unknown) =>
        err instanceof KilnError && err.code === 'INVALID_CONFIGURATION' && err.message.includes(fragment),
    );
  };

  it('reports a missing column, table or owner mismatch as INVALID_CONFIGURATION', () => {
    const { status: _status, ...attributes } = RUNS_DESCRIPTOR.attributes;
    misconfigured({ ...RUNS_DESCRIPTOR, attributes }, "status = 'x'", "no column for attribute 'status'");
    misconfigured({ ...RUNS_DESCRIPTOR, keyed: {} }, "tags.a = 'x'", 'no table for tags');
    misconfigured({ ...RUNS_DESCRIPTOR, dataset: undefined }, "datasets.name = 'x'", 'no dataset tables');
    misconfigured(
      { ...RUNS_DESCRIPTOR, owner: ['runs.run_id', 'runs.status'] },
      "params.a = 'x'",
      'has 1 owner columns',
    );
    const textStart = {
      ...RUNS_DESCRIPTOR.attributes,
      start_time: { column: 'runs.start_time', type: 'text' as const },
    };
    misconfigured(
      { ...RUNS_DESCRIPTOR, attributes: textStart },
      'start_time > 1',
      'compared as a number but stored as text',
    );
  });
});
