import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { SqlDialect } from '../../store/index.js';
import { applySearch } from './compile.js';
import { decodePageToken, encodePageToken } from './page-token.js';
import { prepareSearch } from './plan.js';
import { insertSearchData } from './testing/data.js';
import {
  MODEL_VERSIONS_DESCRIPTOR,
  openSearchFixture,
  RUNS_DESCRIPTOR,
  type SearchFixture,
  tableExists,
} from './testing/fixture.js';

/** r30 … r14: the bulk runs, newest first. */
const BULK = Array.from({ length: 17 }, (_, j) => `r${30 - j}`);
/** Every run in the default order: start_time DESC (null last), then run_id. */
const ALL = [...BULK, 'r13', 'r12', 'r11', 'r09', 'r08', 'r07', 'r05', 'r06', 'r04', 'r03', 'r02', 'r01', 'r10'];

type Case = [name: string, filter: string, orderBy: string[], expected: string[]];

const RUN_CASES: readonly Case[] = [
  ['empty filter: every run in the default order', '', [], ALL],
  ['metric >: NaN never matches', 'metrics.acc > 0.5', [], ['r08', 'r07', 'r04', 'r02', 'r10']],
  [
    'metric !=: NaN and missing do not match',
    'metrics.acc != 0.9',
    [],
    ['r12', 'r11', 'r09', 'r08', 'r05', 'r04', 'r01', 'r10'],
  ],
  ['metric = 0: a NaN stored as 0 does not match', 'metrics.acc = 0', [], ['r11']],
  ['metric <=: -Infinity is a number', 'metrics.acc <= 0', [], ['r12', 'r11', 'r05']],
  ['metric >=: +Infinity is a number', 'metrics.acc >= 1e308', [], ['r04']],
  ['metric key with a space', 'metrics."error rate" < 0.2', [], ['r02']],
  ['param =: case-sensitive', "params.model = 'lr'", [], ['r13', 'r05', 'r01']],
  [
    'param !=: runs without the key do not match',
    "params.model != 'lr'",
    [],
    ['r12', 'r11', 'r08', 'r07', 'r06', 'r04', 'r03', 'r02', 'r10'],
  ],
  ['param key with a leading digit', "params.`1st` = 'yes'", [], ['r03']],
  ['LIKE is case-sensitive', "params.model LIKE 'l%'", [], ['r13', 'r05', 'r01']],
  ['ILIKE is not', "params.model ILIKE 'L%'", [], ['r13', 'r05', 'r02', 'r01']],
  ['LIKE with escaped % and _', "params.model LIKE '50\\%\\_off'", [], ['r07']],
  ['LIKE _ matches one character', "params.model LIKE '50_off'", [], ['r08']],
  ['LIKE: * is literal', "params.model LIKE 'x*y'", [], ['r10']],
  ['LIKE: ? is literal', "params.model LIKE 'x?y'", [], ['r11']],
  ['LIKE: [ is literal', "params.model LIKE '[abc]'", [], ['r12']],
  ['LIKE _ matches * and ?', "params.model LIKE 'x_y'", [], ['r11', 'r10']],
  ['tag LIKE substring, case-sensitive', "tags.team LIKE '%vision%'", [], ['r04', 'r01']],
  ['tag ILIKE substring', "tags.team ILIKE '%vision%'", [], ['r06', 'r04', 'r02', 'r01']],
  ['tag value with a quote', "tags.team = 'o''brien'", [], ['r09']],
  ['tag LIKE escaped _', "tags.team LIKE 'a\\_b'", [], ['r07']],
  ['tag ILIKE escaped %', "tags.team ILIKE 'A\\%B'", [], ['r08']],
  ['dotted tag key', "tags.mlflow.runName = 'gamma'", [], ['r04']],
  [
    'attribute and metric',
    "attributes.status = 'FINISHED' AND metrics.acc < 0.6",
    [],
    ['r12', 'r11', 'r09', 'r05', 'r01'],
  ],
  ['status !=', "status != 'FINISHED'", [], ['r08', 'r06', 'r03']],
  ['run name = is case-sensitive', "run_name = 'alpha'", [], ['r01']],
  ['run name ILIKE', "attributes.run_name ILIKE 'ALPHA'", [], ['r02', 'r01']],
  ['run name alias, LIKE _', "`Run name` LIKE 'eps_'", [], ['r08', 'r07']],
  ['run name != skips null names', "run_name != 'alpha'", [], ['r08', 'r07', 'r06', 'r04', 'r03', 'r02']],
  ['run_id IN', "run_id IN ('r01', 'r03', 'R05', 'nope')", [], ['r03', 'r01']],
  ['run_id NOT IN', "run_id NOT IN ('r02', 'r04') AND metrics.acc > 0.5", [], ['r08', 'r07', 'r10']],
  ['user and status', "user_id = 'alice' AND status = 'FINISHED'", [], ['r01']],
  [
    'start_time range through the created alias',
    'created >= 5000 AND start_time < 9000',
    [],
    ['r08', 'r07', 'r05', 'r06'],
  ],
  ['ISO end_time >', 'end_time > 2000', [], ['r04', 'r02']],
  ['ISO end_time <=', 'end_time <= 1500', [], ['r01']],
  ['ISO end_time with a fraction', 'end_time > 1500.5', [], ['r04', 'r02']],
  ['ISO end_time = fraction matches nothing', 'end_time = 1500.5', [], []],
  ['ISO end_time beyond year 9999', 'end_time < 1e17', [], ['r04', 'r02', 'r01']],
  ['dataset name', "datasets.name = 'iris'", [], ['r03', 'r02', 'r01']],
  ['dataset context', "datasets.context = 'train'", [], ['r03', 'r02', 'r01']],
  ['two dataset conditions', "datasets.name = 'wine' AND datasets.context = 'train'", [], ['r02']],
  ['dataset digest IN', "datasets.digest IN ('DEF456', 'zzz999')", [], ['r14', 'r03', 'r02']],
  ['dataset digest ILIKE', "datasets.digest ILIKE 'def%'", [], ['r14', 'r02']],
  ['dataset context NOT IN', "datasets.context NOT IN ('train')", [], ['r14', 'r02']],
  ['bulk param', "params.batch = '20'", [], ['r20']],
  [
    'bulk metric range and param',
    "metrics.step >= 14 AND metrics.step < 17 AND params.batch != '15'",
    [],
    ['r16', 'r14'],
  ],
  ['injection attempt is a value', "params.model = 'lr''; drop table runs; --'", [], []],
  [
    'order by metric ASC: numbers, then NaN, then missing',
    '',
    ['metrics.acc ASC'],
    ['r05', 'r12', 'r11', 'r09', 'r01', 'r08', 'r07', 'r02', 'r10', 'r04', 'r13', 'r03', ...BULK, 'r06'],
  ],
  [
    'order by metric DESC: numbers, then NaN, then missing',
    '',
    ['metrics.acc DESC'],
    ['r04', 'r10', 'r07', 'r02', 'r08', 'r01', 'r09', 'r11', 'r12', 'r05', 'r13', 'r03', ...BULK, 'r06'],
  ],
  [
    'order by param ASC, code-point order',
    "params.model != 'zzz'",
    ['params.model'],
    ['r07', 'r08', 'r02', 'r12', 'r04', 'r13', 'r05', 'r01', 'r03', 'r06', 'r10', 'r11'],
  ],
  [
    'order by param DESC',
    "params.model != 'zzz'",
    ['params.model DESC'],
    ['r11', 'r10', 'r06', 'r03', 'r13', 'r05', 'r01', 'r04', 'r12', 'r02', 'r08', 'r07'],
  ],
  ['param DESC: missing last', "run_id IN ('r01', 'r09', 'r10')", ['params.lr DESC'], ['r10', 'r09', 'r01']],
  ['param ASC: missing last', "run_id IN ('r01', 'r09', 'r10')", ['params.lr ASC'], ['r09', 'r10', 'r01']],
  ['attribute ASC: null last', 'metrics.acc > 0.5', ['start_time ASC'], ['r02', 'r04', 'r07', 'r08', 'r10']],
  [
    'run name ASC: null last',
    'start_time <= 8000',
    ['run_name'],
    ['r02', 'r01', 'r03', 'r06', 'r07', 'r08', 'r04', 'r05'],
  ],
  [
    'run name DESC: null last',
    'start_time <= 8000',
    ['run_name DESC'],
    ['r04', 'r08', 'r07', 'r06', 'r03', 'r01', 'r02', 'r05'],
  ],
  [
    'two keyed orderings together',
    "run_id IN ('r02', 'r07', 'r03', 'r13', 'r04')",
    ['metrics.acc DESC', 'params.model DESC'],
    ['r04', 'r02', 'r07', 'r03', 'r13'],
  ],
  ['order by tag', "tags.team != ''", ['tags.team'], ['r06', 'r02', 'r08', 'r07', 'r03', 'r09', 'r01', 'r04']],
  ['order by metric with a filter on it', 'metrics.step > 27', ['metrics.step DESC'], ['r30', 'r29', 'r28']],
  ['order by run_id DESC', "user_id = 'bulk' AND metrics.step < 17", ['run_id DESC'], ['r16', 'r15', 'r14']],
  [
    'filtered metric DESC: +Infinity first, ties by start_time',
    'metrics.acc > 0.5',
    ['metrics.acc DESC'],
    ['r04', 'r10', 'r07', 'r02', 'r08'],
  ],
  [
    'filtered metric ASC, two comparisons on it, NaN and a missing param excluded',
    "metrics.acc <= 0.5 AND metrics.acc != 0 AND params.model != 'none'",
    ['metrics.acc ASC'],
    ['r05', 'r12', 'r01'],
  ],
];

const VERSION_CASES: readonly Case[] = [
  ['default order: name ASC, version DESC', '', [], ['M1/1', 'm1/3', 'm1/2', 'm1/1', 'm2/2', 'm2/1']],
  ['tag on a composite owner', "tags.stage = 'prod'", [], ['m1/3', 'm1/1']],
  ['tag ILIKE and version', "tags.stage ILIKE 'prod' AND version_number >= 1", [], ['m1/3', 'm1/1', 'm2/1']],
  ['tag != skips versions without the tag', "tags.stage != 'prod'", [], ['m2/2', 'm2/1']],
  ['source_path LIKE', "source_path LIKE 's3://%'", [], ['M1/1', 'm1/3', 'm1/1', 'm2/1']],
  ['run_id IN', "run_id IN ('r01')", [], ['m1/1', 'm2/1']],
  ['name = is case-sensitive', "name = 'm1' AND version_number > 1.5", [], ['m1/3', 'm1/2']],
  ['order by version ASC', '', ['version_number ASC'], ['M1/1', 'm1/1', 'm2/1', 'm1/2', 'm2/2', 'm1/3']],
  ['order by timestamp DESC', "name != 'M1'", ['timestamp DESC'], ['m2/2', 'm2/1', 'm1/3', 'm1/2', 'm1/1']],
];

async function searchRuns(fixture: SearchFixture, filter: string, orderBy: string[]): Promise<string[]> {
  const plan = prepareSearch('runs', { filter, orderBy });
  const query = applySearch(
    fixture.db.selectFrom('runs').select('runs.run_id'),
    plan,
    RUNS_DESCRIPTOR,
    fixture.dialect,
  );
  return (await query.execute()).map((row) => row.run_id);
}

async function searchVersions(fixture: SearchFixture, filter: string, orderBy: string[]): Promise<string[]> {
  const plan = prepareSearch('model_versions', { filter, orderBy });
  const base = fixture.db.selectFrom('model_versions').select(['model_versions.name', 'model_versions.version']);
  const rows = await applySearch(base, plan, MODEL_VERSIONS_DESCRIPTOR, fixture.dialect).execute();
  return rows.map((row) => `${row.name}/${row.version}`);
}

for (const dialect of ['sqlite', 'postgres'] as const satisfies readonly SqlDialect[]) {
  describe(`search execution on ${dialect}`, () => {
    let fixture: SearchFixture;
    before(async () => {
      fixture = await openSearchFixture(dialect);
      await insertSearchData(fixture);
    });
    after(async () => {
      await fixture?.cleanup();
    });

    for (const [name, filter, orderBy, expected] of RUN_CASES) {
      it(`runs: ${name}`, async () => {
        assert.deepEqual(await searchRuns(fixture, filter, orderBy), expected);
      });
    }

    for (const [name, filter, orderBy, expected] of VERSION_CASES) {
      it(`model versions: ${name}`, async () => {
        assert.deepEqual(await searchVersions(fixture, filter, orderBy), expected);
      });
    }

    it('pages through the default order with offset tokens', async () => {
      const plan = prepareSearch('runs', {});
      const page = async (token: string | undefined) =>
        (
          await applySearch(fixture.db.selectFrom('runs').select('runs.run_id'), plan, RUNS_DESCRIPTOR, dialect)
            .limit(12)
            .offset(decodePageToken(token))
            .execute()
        ).map((row) => row.run_id);
      const seen = [
        ...(await page(undefined)),
        ...(await page(encodePageToken(12))),
        ...(await page(encodePageToken(24))),
      ];
      assert.deepEqual(seen, ALL);
    });

    it('binds an injection attempt as a parameter and the table survives', async () => {
      const attack = "x'; drop table runs; --";
      const plan = prepareSearch('runs', {
        filter: `params.model = '${attack.replaceAll("'", "''")}' AND run_name LIKE '${attack.replaceAll("'", "''")}'`,
      });
      const query = applySearch(fixture.db.selectFrom('runs').select('runs.run_id'), plan, RUNS_DESCRIPTOR, dialect);
      const compiled = query.compile();
      assert.ok(!compiled.sql.includes('drop table'), compiled.sql);
      assert.ok(compiled.parameters.includes(attack), JSON.stringify(compiled.parameters));
      assert.deepEqual(await query.execute(), []);
      assert.equal(await tableExists(fixture, 'runs'), true);
      assert.equal((await fixture.db.selectFrom('runs').select('run_id').execute()).length, 30);
    });
  });
}
