import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type TestDatabase, testDatabases } from '../store/testing/databases.js';
import type { SearchRunsInput } from './runs-service.js';
import { contextIn, openTracking, rejectsWith, type TrackingHarness } from './testing/harness.js';

const ctx = contextIn();

/** name, start time, acc (undefined: not logged), model param, team tag, status. */
const RUNS: ReadonlyArray<[string, number, number | undefined, string, string, string]> = [
  ['r1', 1000, 0.5, 'lr', 'vision', 'FINISHED'],
  ['r2', 2000, 0.9, 'gbdt', 'Vision', 'FINISHED'],
  ['r3', 3000, Number.NaN, 'lr', 'nlp', 'FAILED'],
  ['r4', 4000, Number.POSITIVE_INFINITY, 'rf', 'vision-core', 'FINISHED'],
  ['r5', 5000, undefined, 'gbdt', 'ops', 'RUNNING'],
  ['r6', 6000, 0.9, 'lr', "o'brien", 'KILLED'],
  ['r7', 7000, Number.NEGATIVE_INFINITY, 'gbdt', 'vision', 'FINISHED'],
];

for (const target of await testDatabases()) {
  describe(`run search on ${target.name}`, { skip: target.skip }, () => {
    let db: TestDatabase;
    let t: TrackingHarness;
    let experimentId: string;
    let otherExperimentId: string;
    const ids = new Map<string, string>();
    const names = new Map<string, string>();

    const search = async (input: Omit<SearchRunsInput, 'experimentIds'> & { experimentIds?: string[] }) => {
      const page = await t.runs.search(ctx, { experimentIds: [experimentId], ...input });
      return page.runs.map((run) => names.get(run.info.runId) ?? run.info.runId);
    };

    before(async () => {
      db = await target.create();
      t = await openTracking(db);
      experimentId = (await t.experiments.create(ctx, { name: 'search' })).experimentId;
      otherExperimentId = (await t.experiments.create(ctx, { name: 'search-2' })).experimentId;
      for (const [name, start, acc, model, team, status] of RUNS) {
        const run = await t.runs.create(ctx, { experimentId, runName: name, startTime: start });
        const runId = run.info.runId;
        ids.set(name, runId);
        names.set(runId, name);
        await t.runData.logBatch(ctx, runId, {
          metrics: [
            ...(acc === undefined ? [] : [{ key: 'acc', value: acc, timestamp: start, step: 0 }]),
            { key: 'loss', value: start / 1000, timestamp: start, step: 1 },
            { key: 'loss', value: 100, timestamp: start, step: 0 },
          ],
          params: [{ key: 'model', value: model }],
          tags: [{ key: 'team', value: team }],
        });
        if (status !== 'RUNNING') await t.runs.update(ctx, runId, { status, endTime: start + 500 });
      }
      const elsewhere = await t.runs.create(ctx, { experimentId: otherExperimentId, runName: 'x1', startTime: 500 });
      names.set(elsewhere.info.runId, 'x1');
      await t.runs.delete(ctx, ids.get('r6') as string);
    });
    after(() => db.cleanup());

    it('should order by start_time DESC by default and hide deleted runs', async () => {
      assert.deepEqual(await search({}), ['r7', 'r5', 'r4', 'r3', 'r2', 'r1']);
      assert.deepEqual(await search({ runViewType: 'DELETED_ONLY' }), ['r6']);
      assert.deepEqual(await search({ runViewType: 'ALL' }), ['r7', 'r6', 'r5', 'r4', 'r3', 'r2', 'r1']);
      assert.deepEqual(
        await search({ experimentIds: [experimentId, otherExperimentId], orderBy: ['start_time ASC'] }),
        ['x1', 'r1', 'r2', 'r3', 'r4', 'r5', 'r7'],
      );
    });

    const cases: ReadonlyArray<[string, string, string[], string[]]> = [
      ['latest metric value, NaN never matches', 'metrics.acc > 0.5', [], ['r4', 'r2']],
      ['latest loss is the step-1 value', 'metrics.loss < 2.5', [], ['r2', 'r1']],
      ['-Infinity is a number', 'metrics.acc < 0', [], ['r7']],
      ['params are strings', "params.model = 'gbdt'", [], ['r7', 'r5', 'r2']],
      ['tags LIKE is case-sensitive', "tags.team LIKE 'vision%'", [], ['r7', 'r4', 'r1']],
      ['tags ILIKE is not', "tags.team ILIKE 'VISION'", [], ['r7', 'r2', 'r1']],
      [
        'attributes and params together',
        "attributes.status = 'FINISHED' AND params.model != 'rf'",
        [],
        ['r7', 'r2', 'r1'],
      ],
      ['run name', "run_name = 'r3'", [], ['r3']],
      [
        'mirrored run name tag',
        "tags.mlflow.runName LIKE 'r_'",
        ['start_time ASC'],
        ['r1', 'r2', 'r3', 'r4', 'r5', 'r7'],
      ],
      ['start time window', 'attributes.start_time >= 2000 AND start_time < 5000', [], ['r4', 'r3', 'r2']],
      ['end time', 'end_time > 4000', [], ['r7', 'r4']],
      ['runs without the key never match !=', "params.missing != 'x'", [], []],
      [
        'order by metric DESC: numbers, then NaN, then missing',
        '',
        ['metrics.acc DESC'],
        ['r4', 'r2', 'r1', 'r7', 'r3', 'r5'],
      ],
      [
        'order by metric ASC: numbers, then NaN, then missing',
        '',
        ['metrics.acc ASC'],
        ['r7', 'r1', 'r2', 'r4', 'r3', 'r5'],
      ],
      ['order by param then start time tie-break', '', ['params.model ASC'], ['r7', 'r5', 'r2', 'r3', 'r1', 'r4']],
      ['order by tag', "status = 'FINISHED'", ['tags.team DESC'], ['r4', 'r7', 'r1', 'r2']],
    ];
    for (const [name, filter, orderBy, expected] of cases) {
      it(`should filter and order: ${name}`, async () => {
        assert.deepEqual(await search({ filter, orderBy }), expected);
      });
    }

    it('should select by run id lists', async () => {
      const filter = `run_id IN ('${ids.get('r1')}', '${ids.get('r3')}', 'nope')`;
      assert.deepEqual(await search({ filter }), ['r3', 'r1']);
    });

    it('should page with opaque offset tokens until the last page', async () => {
      const seen: string[] = [];
      let pageToken: string | undefined;
      let pages = 0;
      do {
        const page = await t.runs.search(ctx, {
          experimentIds: [experimentId],
          maxResults: 4,
          pageToken,
          orderBy: ['metrics.acc DESC'],
        });
        seen.push(...page.runs.map((run) => names.get(run.info.runId) ?? '?'));
        pageToken = page.nextPageToken;
        pages++;
      } while (pageToken !== undefined);
      assert.equal(pages, 2);
      assert.deepEqual(seen, ['r4', 'r2', 'r1', 'r7', 'r3', 'r5']);
    });

    it('should return whole runs, their data loaded for the page', async () => {
      const page = await t.runs.search(ctx, { experimentIds: [experimentId], filter: "run_name = 'r2'" });
      const run = page.runs[0];
      assert.equal(page.runs.length, 1);
      assert.deepEqual(run?.data.params, [{ key: 'model', value: 'gbdt' }]);
      assert.deepEqual(run?.data.metrics, [
        { key: 'acc', value: 0.9, timestamp: 2000, step: 0 },
        { key: 'loss', value: 2, timestamp: 2000, step: 1 },
      ]);
      assert.deepEqual(
        run?.data.tags.map((tag) => tag.key),
        ['mlflow.runName', 'team'],
      );
      assert.equal(run?.info.status, 'FINISHED');
      assert.equal(run?.info.endTime, 2500);
    });

    it('should reject bad searches with INVALID_PARAMETER_VALUE', async () => {
      const bad = rejectsWith('INVALID_PARAMETER_VALUE');
      await assert.rejects(search({ filter: "metrics.acc > '0.5'" }), bad);
      await assert.rejects(search({ filter: 'params.model = 1' }), bad);
      await assert.rejects(search({ orderBy: ['nonsense.x'] }), bad);
      await assert.rejects(search({ maxResults: 0 }), rejectsWith('INVALID_PARAMETER_VALUE', /^max_results/));
      await assert.rejects(search({ pageToken: 'garbage!' }), rejectsWith('INVALID_PARAMETER_VALUE', /^page_token/));
      await assert.rejects(search({ runViewType: 'NONE' }), rejectsWith('INVALID_PARAMETER_VALUE', /^run_view_type/));
      await assert.rejects(
        search({ experimentIds: ['x'] }),
        rejectsWith('INVALID_PARAMETER_VALUE', /^experiment_ids\[0\]/),
      );
      assert.deepEqual(await search({ experimentIds: [] }), []);
    });

    it('should take long experiment id lists, bound as one array parameter', async () => {
      const many = Array.from({ length: 600 }, (_, i) => String(900_000 + i));
      assert.deepEqual(await search({ experimentIds: [...many, experimentId], filter: "run_name = 'r1'" }), ['r1']);
    });
  });
}
