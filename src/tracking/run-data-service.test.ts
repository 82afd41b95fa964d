import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type TestDatabase, testDatabases } from '../store/testing/databases.js';
import type { DatasetInput, Metric } from './model.js';
import { contextIn, openTracking, rejectsWith, type TrackingHarness } from './testing/harness.js';

const ctx = contextIn();

function metric(key: string, value: number, step: number, timestamp = 1000): Metric {
  return { key, value, step, timestamp };
}

function dataset(name: string, digest: string, context?: string): DatasetInput {
  return {
    dataset: { name, digest, sourceType: 'code', source: '{"uri": "x"}', schema: '{"cols": 4}', profile: null },
    tags: context === undefined ? [] : [{ key: 'mlflow.data.context', value: context }],
  };
}

for (const target of await testDatabases()) {
  describe(`run data on ${target.name}`, { skip: target.skip }, () => {
    let db: TestDatabase;
    let t: TrackingHarness;
    let experimentId: string;
    const newRun = async () => (await t.runs.create(ctx, { experimentId })).info.runId;

    before(async () => {
      db = await target.create();
      t = await openTracking(db);
      experimentId = (await t.experiments.create(ctx, { name: 'data' })).experimentId;
    });
    after(() => db.cleanup());

    it('should log a batch of metrics, params and tags and read it back', async () => {
      const runId = await newRun();
      await t.runData.logBatch(ctx, runId, {
        metrics: [metric('loss', 0.5, 0), metric('loss', 0.25, 1), metric('acc', 0.9, 1)],
        params: [
          { key: 'lr', value: '0.01' },
          { key: 'depth', value: '3' },
        ],
        tags: [
          { key: 'team', value: 'a' },
          { key: 'team', value: 'b' },
        ],
      });
      const run = await t.runs.get(ctx, runId);
      assert.deepEqual(run.data.params, [
        { key: 'depth', value: '3' },
        { key: 'lr', value: '0.01' },
      ]);
      assert.deepEqual(run.data.metrics, [metric('acc', 0.9, 1), metric('loss', 0.25, 1)]);
      assert.equal(run.data.tags.find((tag) => tag.key === 'team')?.value, 'b');
      const history = await t.runData.getMetricHistory(ctx, runId, 'loss');
      assert.deepEqual(history.metrics, [metric('loss', 0.5, 0), metric('loss', 0.25, 1)]);
    });

    it('should keep params immutable: the same value again is fine, another is refused with MLflow wording', async () => {
      const runId = await newRun();
      await t.runData.logParam(ctx, runId, 'lr', '0.01');
      await t.runData.logParam(ctx, runId, 'lr', '0.01');
      await t.runData.logBatch(ctx, runId, { params: [{ key: 'lr', value: '0.01' }] });
      await assert.rejects(
        t.runData.logParam(ctx, runId, 'lr', '0.02'),
        rejectsWith(
          'INVALID_PARAMETER_VALUE',
          new RegExp(
            `Changing param values is not allowed. Param with key='lr' was already logged with value='0.01' ` +
              `for run ID='${runId}'. Attempted logging new value '0.02'.`,
          ),
        ),
      );
      assert.deepEqual((await t.runs.get(ctx, runId)).data.params, [{ key: 'lr', value: '0.01' }]);
    });

    it('should write nothing of a batch that changes a param', async () => {
      const runId = await newRun();
      await t.runData.logParam(ctx, runId, 'lr', '0.01');
      await assert.rejects(
        t.runData.logBatch(ctx, runId, {
          metrics: [metric('loss', 1, 0)],
          params: [
            { key: 'new', value: 'x' },
            { key: 'lr', value: '0.5' },
          ],
          tags: [{ key: 'should-not', value: 'exist' }],
        }),
        rejectsWith('INVALID_PARAMETER_VALUE', /key='lr'/),
      );
      const run = await t.runs.get(ctx, runId);
      assert.deepEqual(run.data.params, [{ key: 'lr', value: '0.01' }]);
      assert.deepEqual(run.data.metrics, []);
      assert.equal(
        run.data.tags.some((tag) => tag.key === 'should-not'),
        false,
      );
      assert.deepEqual((await t.runData.getMetricHistory(ctx, runId, 'loss')).metrics, []);
    });

    it('should refuse duplicate param keys with different values in one batch', async () => {
      const runId = await newRun();
      await assert.rejects(
        t.runData.logBatch(ctx, runId, {
          params: [
            { key: 'a', value: '1' },
            { key: 'a', value: '2' },
          ],
        }),
        rejectsWith('INVALID_PARAMETER_VALUE', /^params\[1\]: duplicate parameter key 'a'/),
      );
      await t.runData.logBatch(ctx, runId, {
        params: [
          { key: 'a', value: '1' },
          { key: 'a', value: '1' },
        ],
      });
      assert.deepEqual((await t.runs.get(ctx, runId)).data.params, [{ key: 'a', value: '1' }]);
    });

    it('should round-trip NaN and ±Infinity, in history and as latest values', async () => {
      const runId = await newRun();
      await t.runData.logBatch(ctx, runId, {
        metrics: [
          metric('nan', Number.NaN, 0),
          metric('inf', Number.POSITIVE_INFINITY, 0),
          metric('ninf', Number.NEGATIVE_INFINITY, 0),
          metric('tiny', 5e-324, 0),
          metric('big', -1.7976931348623157e308, 0),
        ],
      });
      const latest = Object.fromEntries((await t.runs.get(ctx, runId)).data.metrics.map((m) => [m.key, m.value]));
      assert.ok(Number.isNaN(latest.nan));
      assert.equal(latest.inf, Number.POSITIVE_INFINITY);
      assert.equal(latest.ninf, Number.NEGATIVE_INFINITY);
      assert.equal(latest.tiny, 5e-324);
      assert.equal(latest.big, -1.7976931348623157e308);
      for (const [key, value] of Object.entries(latest)) {
        const points = (await t.runData.getMetricHistory(ctx, runId, key)).metrics;
        assert.equal(points.length, 1);
        assert.ok(Object.is(points[0]?.value, value), `${key}: ${points[0]?.value} vs ${value}`);
      }
    });

    it('should keep as latest value the point with the highest step, then timestamp, then value', async () => {
      const runId = await newRun();
      const latest = async () => (await t.runs.get(ctx, runId)).data.metrics[0];
      await t.runData.logBatch(ctx, runId, { metrics: [metric('m', 5, 10, 100), metric('m', 7, 3, 900)] });
      assert.deepEqual(await latest(), metric('m', 5, 10, 100));
      await t.runData.logMetric(ctx, runId, { key: 'm', value: 1, step: 2, timestamp: 5000 });
      assert.deepEqual(await latest(), metric('m', 5, 10, 100));
      await t.runData.logMetric(ctx, runId, { key: 'm', value: 2, step: 10, timestamp: 50 });
      assert.deepEqual(await latest(), metric('m', 5, 10, 100));
      await t.runData.logMetric(ctx, runId, { key: 'm', value: 3, step: 10, timestamp: 101 });
      assert.deepEqual(await latest(), metric('m', 3, 10, 101));
      await t.runData.logBatch(ctx, runId, { metrics: [metric('m', 4, 10, 101), metric('m', 3.5, 10, 101)] });
      assert.deepEqual(await latest(), metric('m', 4, 10, 101));
      await t.runData.logMetric(ctx, runId, { key: 'm', value: 0, timestamp: 1 });
      assert.deepEqual(await latest(), metric('m', 4, 10, 101));
      assert.equal((await t.runData.getMetricHistory(ctx, runId, 'm')).metrics.length, 8);
    });

    it('should keep every point but store an identical point (a retried request) once', async () => {
      const runId = await newRun();
      const batch = { metrics: [metric('m', 1, 1), metric('m', 1, 1), metric('m', 2, 1), metric('m', 1, 2)] };
      await t.runData.logBatch(ctx, runId, batch);
      await t.runData.logBatch(ctx, runId, batch);
      assert.deepEqual((await t.runData.getMetricHistory(ctx, runId, 'm')).metrics, [
        metric('m', 1, 1),
        metric('m', 2, 1),
        metric('m', 1, 2),
      ]);
    });

    it("should enforce MLflow's batch limits with messages naming the item", async () => {
      const runId = await newRun();
      const many = (n: number) => Array.from({ length: n }, (_, i) => metric('m', i, i));
      const cases: Array<[Parameters<typeof t.runData.logBatch>[2], RegExp]> = [
        [{ metrics: many(1001) }, /^metrics: a batch logging request can contain at most 1000 metrics; got 1001/],
        [
          { params: Array.from({ length: 101 }, (_, i) => ({ key: `p${i}`, value: 'v' })) },
          /^params: .*at most 100 params; got 101/,
        ],
        [{ tags: Array.from({ length: 101 }, (_, i) => ({ key: `t${i}`, value: 'v' })) }, /^tags: .*at most 100 tags/],
        [
          { metrics: many(950), params: Array.from({ length: 51 }, (_, i) => ({ key: `p${i}`, value: 'v' })) },
          /^batch: .*at most 1000 metrics, params and tags in all; got 1001/,
        ],
        [{ metrics: [metric('ok', 1, 0), metric('', 1, 0)] }, /^metrics\[1\]\.key: must not be empty/],
        [
          { metrics: [metric('k'.repeat(251), 1, 0)] },
          /^metrics\[0\]\.key: has length 251, which exceeds the limit of 250/,
        ],
        [{ metrics: [metric('a?b', 1, 0)] }, /^metrics\[0\]\.key: 'a\?b' may only contain alphanumerics/],
        [{ metrics: [metric('a/../b', 1, 0)] }, /^metrics\[0\]\.key: 'a\/\.\.\/b' must be a relative path/],
        [{ metrics: [metric('/abs', 1, 0)] }, /^metrics\[0\]\.key: '\/abs' must be a relative path/],
        [
          { metrics: [{ key: 'm', value: '1' as unknown as number, timestamp: 1 }] },
          /^metrics\[0\]\.value: must be a number/,
        ],
        [{ metrics: [{ key: 'm', value: 1, timestamp: -5 }] }, /^metrics\[0\]\.timestamp: must be a whole number/],
        [{ metrics: [{ key: 'm', value: 1, timestamp: 1, step: 1.5 }] }, /^metrics\[0\]\.step: must be a whole number/],
        [
          { params: [{ key: 'p', value: 'v'.repeat(6001) }] },
          /^params\[0\]\.value: has length 6001, which exceeds the limit of 6000/,
        ],
        [
          { tags: [{ key: 't', value: 'v'.repeat(8001) }] },
          /^tags\[0\]\.value: has length 8001, which exceeds the limit of 8000/,
        ],
        [{ tags: [{ key: 't', value: 5 as unknown as string }] }, /^tags\[0\]\.value: must be a string, got number/],
      ];
      for (const [batch, message] of cases) {
        await assert.rejects(t.runData.logBatch(ctx, runId, batch), rejectsWith('INVALID_PARAMETER_VALUE', message));
      }
      await t.runData.logBatch(ctx, runId, {
        metrics: many(900),
        params: Array.from({ length: 50 }, (_, i) => ({ key: `p${i}`, value: 'v'.repeat(6000) })),
        tags: Array.from({ length: 50 }, (_, i) => ({ key: `t ${i}/x-y_z.w`, value: 'v'.repeat(8000) })),
      });
      const run = await t.runs.get(ctx, runId);
      assert.equal(run.data.params.length, 50);
      assert.equal((await t.runData.getMetricHistory(ctx, runId, 'm')).metrics.length, 900);
    });

    it('should log dataset inputs, deduplicated per experiment by name and digest', async () => {
      const first = await newRun();
      const second = await newRun();
      await t.runData.logInputs(ctx, first, [dataset('iris', 'd1', 'training'), dataset('iris', 'd2', 'eval')]);
      await t.runData.logInputs(ctx, second, [dataset('iris', 'd1', 'eval')]);
      await t.runData.logInputs(ctx, first, [dataset('iris', 'd1', 'validation')]);
      const inputs = (await t.runs.get(ctx, first)).inputs.datasetInputs;
      assert.deepEqual(
        inputs.map((input) => [input.dataset.digest, input.tags]),
        [
          ['d1', [{ key: 'mlflow.data.context', value: 'validation' }]],
          ['d2', [{ key: 'mlflow.data.context', value: 'eval' }]],
        ],
      );
      assert.deepEqual(inputs[0]?.dataset, dataset('iris', 'd1').dataset);
      const count = await t.database.kysely
        .withTables<{ datasets: { dataset_id: string } }>()
        .selectFrom('datasets')
        .select((eb) => eb.fn.countAll().as('n'))
        .executeTakeFirstOrThrow();
      assert.equal(Number(count.n), 2);
      const byContext = await t.runs.search(ctx, {
        experimentIds: [experimentId],
        filter: "datasets.context = 'eval'",
      });
      assert.deepEqual(byContext.runs.map((run) => run.info.runId).sort(), [first, second].sort());
      const byDigest = await t.runs.search(ctx, { experimentIds: [experimentId], filter: "datasets.digest IN ('d2')" });
      assert.deepEqual(
        byDigest.runs.map((run) => run.info.runId),
        [first],
      );
      await assert.rejects(
        t.runData.logInputs(ctx, first, [{ ...dataset('x', 'd'.repeat(65)) }]),
        rejectsWith('INVALID_PARAMETER_VALUE', /^datasets\[0\]\.dataset\.digest: has length 65/),
      );
      await assert.rejects(
        t.runData.logInputs(ctx, first, [{ ...dataset('x', 'd'), tags: [{ key: 'k', value: 'v'.repeat(501) }] }]),
        rejectsWith('INVALID_PARAMETER_VALUE', /^datasets\[0\]\.tags\[0\]\.value/),
      );
    });
  });
}
