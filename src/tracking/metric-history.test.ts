import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type TestDatabase, testDatabases } from '../store/testing/databases.js';
import type { Metric } from './model.js';
import { contextIn, openTracking, rejectsWith, type TrackingHarness } from './testing/harness.js';

const ctx = contextIn();

/** A small deterministic generator (mulberry32), so failures reproduce. */
function random(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let r = Math.imul(a ^ (a >>> 15), 1 | a);
    r = (r + Math.imul(r ^ (r >>> 7), 61 | r)) ^ r;
    return ((r ^ (r >>> 14)) >>> 0) / 4294967296;
  };
}

function byStep(a: Metric, b: Metric): number {
  return a.step - b.step || a.timestamp - b.timestamp || a.value - b.value;
}

/**
 * Checks a downsampled read against the raw points: at most `maxPoints`, in step order, each a real
 * point, the global minimum, maximum, last and first kept (as many as fit, in that order), and every raw point within one bucket
 * width of a kept point at least as low and one at least as high (each bucket keeps its extremes).
 */
function checkDownsampled(raw: readonly Metric[], kept: readonly Metric[], maxPoints: number): void {
  assert.ok(kept.length <= maxPoints, `${kept.length} points for a limit of ${maxPoints}`);
  assert.deepEqual([...kept].sort(byStep), kept, 'in step order');
  const id = (m: Metric) => `${m.step}/${m.timestamp}/${m.value}`;
  const rawIds = new Set(raw.map(id));
  for (const point of kept) assert.ok(rawIds.has(id(point)), `${id(point)} is not a logged point`);
  const sorted = [...raw].sort(byStep);
  const real = sorted.filter((m) => !Number.isNaN(m.value));
  const keptIds = new Set(kept.map(id));
  const min = real.reduce((a, b) => (b.value < a.value ? b : a));
  const max = real.reduce((a, b) => (b.value > a.value ? b : a));
  const preferred = [
    ['min', min],
    ['max', max],
    ['last', sorted.at(-1)],
    ['first', sorted[0]],
  ] as const;
  for (const [name, point] of preferred.slice(0, maxPoints)) {
    assert.ok(point !== undefined && keptIds.has(id(point)), `the global ${name} point is kept`);
  }
  if (maxPoints < 4) return;
  const span = (sorted.at(-1)?.step ?? 0) - (sorted[0]?.step ?? 0) + 1;
  const width = (2.1 * span) / Math.floor(maxPoints / 4) + 16;
  let from = 0;
  for (const point of real) {
    while ((kept[from]?.step ?? Number.POSITIVE_INFINITY) < point.step - width) from++;
    let low = false;
    let high = false;
    for (let i = from; i < kept.length && (kept[i]?.step ?? 0) <= point.step + width; i++) {
      const value = kept[i]?.value ?? Number.NaN;
      if (value <= point.value) low = true;
      if (value >= point.value) high = true;
    }
    assert.ok(low && high, `no kept extreme near step ${point.step} (value ${point.value})`);
  }
}

for (const target of await testDatabases()) {
  describe(`metric history on ${target.name}`, { skip: target.skip }, () => {
    let db: TestDatabase;
    let t: TrackingHarness;
    let experimentId: string;

    const newRun = async () => (await t.runs.create(ctx, { experimentId })).info.runId;
    const log = async (runId: string, points: readonly Metric[]) => {
      for (let i = 0; i < points.length; i += 1000) {
        await t.runData.logBatch(ctx, runId, { metrics: points.slice(i, i + 1000) });
      }
    };
    const rollupMark = async (runId: string, key: string) => {
      const row = await t.database.kysely
        .withTables<{ latest_metrics: { run_id: string; key: string; rollup_from: number | null } }>()
        .selectFrom('latest_metrics')
        .select('rollup_from')
        .where('run_id', '=', runId)
        .where('key', '=', key)
        .executeTakeFirstOrThrow();
      return row.rollup_from;
    };

    before(async () => {
      db = await target.create();
      t = await openTracking(db);
      experimentId = (await t.experiments.create(ctx, { name: 'history' })).experimentId;
    });
    after(() => db.cleanup());

    it('should page through a history in (step, timestamp) order with keyset tokens', async () => {
      const runId = await newRun();
      const rand = random(1);
      const points: Metric[] = [];
      for (let i = 0; i < 2500; i++) {
        points.push({ key: 'loss', value: rand(), step: Math.floor(rand() * 800), timestamp: 1000 + (i % 7) });
      }
      points.push({ key: 'loss', value: Number.NaN, step: 400, timestamp: 1003 });
      await log(runId, points.reverse());
      const expected = [...new Map(points.map((m) => [`${m.step}/${m.timestamp}/${m.value}`, m])).values()].sort(
        byStep,
      );
      const seen: Metric[] = [];
      let pageToken: string | undefined;
      let pages = 0;
      do {
        const page = await t.runData.getMetricHistory(ctx, runId, 'loss', { maxResults: 1000, pageToken });
        seen.push(...page.metrics);
        pageToken = page.nextPageToken;
        pages++;
      } while (pageToken !== undefined);
      assert.equal(pages, Math.ceil(expected.length / 1000));
      assert.deepEqual(seen, expected);
      const whole = await t.runData.getMetricHistory(ctx, runId, 'loss', { maxResults: 1_000_000 });
      assert.equal(whole.metrics.length, expected.length);
      assert.equal(whole.nextPageToken, undefined);
      assert.deepEqual((await t.runData.getMetricHistory(ctx, runId, 'absent')).metrics, []);
      const bad = rejectsWith('INVALID_PARAMETER_VALUE', /^page_token/);
      await assert.rejects(t.runData.getMetricHistory(ctx, runId, 'loss', { pageToken: 'eyJvZmZzZXQiOiAxMDB9' }), bad);
      await assert.rejects(t.runData.getMetricHistory(ctx, runId, 'loss', { pageToken: 'W10' }), bad);
      await assert.rejects(
        t.runData.getMetricHistory(ctx, runId, 'loss', { maxResults: 0 }),
        rejectsWith('INVALID_PARAMETER_VALUE', /^max_results/),
      );
    });

    it('should return a short history whole when it fits', async () => {
      const runId = await newRun();
      const points = Array.from({ length: 50 }, (_, i) => ({ key: 'm', value: i % 3, step: i, timestamp: 10 }));
      await log(runId, points);
      assert.deepEqual(await t.runData.downsampleMetricHistory(ctx, runId, 'm', 50), points);
      assert.deepEqual(await t.runData.downsampleMetricHistory(ctx, runId, 'absent', 10), []);
    });

    it('should keep every bucket extreme of a dense history with spikes', async () => {
      const runId = await newRun();
      const rand = random(2);
      const points: Metric[] = Array.from({ length: 20_000 }, (_, i) => ({
        key: 'loss',
        value: Math.sin(i / 500) + rand() * 0.1,
        step: i,
        timestamp: 1_700_000_000_000 + i,
      }));
      for (let s = 0; s < 20; s++) {
        const at = 500 + s * 977;
        (points[at] as Metric).value = s % 2 === 0 ? 100 + s : -100 - s;
      }
      (points[12_345] as Metric).value = Number.NaN;
      await log(runId, points);
      // 1000 points: 250 buckets over 20,000 steps, bucketed from the points; 100 points: 25
      // buckets, made of 256-step rollup blocks.
      for (const limit of [1000, 100]) {
        const kept = await t.runData.downsampleMetricHistory(ctx, runId, 'loss', limit);
        checkDownsampled(points, kept, limit);
        for (let s = 0; s < 20; s++)
          assert.ok(
            kept.some((m) => m.step === 500 + s * 977),
            `spike ${s} kept of ${limit}`,
          );
        assert.ok(kept.length >= limit / 2, `${kept.length} of ${limit} points: buckets should be nearly all filled`);
      }
      assert.equal(await rollupMark(runId, 'loss'), null);
      for (const limit of [1, 2, 3, 4, 7, 10_000]) {
        checkDownsampled(points, await t.runData.downsampleMetricHistory(ctx, runId, 'loss', limit), limit);
      }
    });

    it('should fold points logged after a read, including out-of-order steps, into the next read', async () => {
      const runId = await newRun();
      const points: Metric[] = Array.from({ length: 5000 }, (_, i) => ({
        key: 'acc',
        value: i / 5000,
        step: i * 37,
        timestamp: 5,
      }));
      await log(runId, points);
      checkDownsampled(points, await t.runData.downsampleMetricHistory(ctx, runId, 'acc', 200), 200);
      const late: Metric[] = [
        { key: 'acc', value: -50, step: 1_111, timestamp: 6 },
        { key: 'acc', value: 75, step: 90_001, timestamp: 6 },
        ...Array.from({ length: 3000 }, (_, i) => ({
          key: 'acc',
          value: 1 - i / 3000,
          step: 185_000 + i * 41,
          timestamp: 7,
        })),
      ];
      await log(runId, late);
      assert.equal(await rollupMark(runId, 'acc'), 1_111);
      const all = [...points, ...late];
      const kept = await t.runData.downsampleMetricHistory(ctx, runId, 'acc', 200);
      checkDownsampled(all, kept, 200);
      assert.ok(kept.some((m) => m.value === -50 && m.step === 1_111));
      assert.ok(kept.some((m) => m.value === 75 && m.step === 90_001));
    });

    it('should handle negative steps and steps the size of timestamps', async () => {
      const negative = await newRun();
      const rand = random(3);
      const around: Metric[] = Array.from({ length: 4000 }, (_, i) => ({
        key: 'm',
        value: rand() * 10 - 5,
        step: (i - 2000) * 13,
        timestamp: 1,
      }));
      await log(negative, around);
      checkDownsampled(around, await t.runData.downsampleMetricHistory(ctx, negative, 'm', 100), 100);
      const huge = await newRun();
      const late: Metric[] = Array.from({ length: 3000 }, (_, i) => ({
        key: 'm',
        value: Math.cos(i / 40),
        step: 1_700_000_000_000 + i * 997,
        timestamp: 2,
      }));
      await log(huge, late);
      checkDownsampled(late, await t.runData.downsampleMetricHistory(ctx, huge, 'm', 400), 400);
    });

    it('should bucket many points per step directly from the points', async () => {
      const runId = await newRun();
      const rand = random(4);
      const points: Metric[] = [];
      for (let i = 0; i < 3000; i++) points.push({ key: 'm', value: rand(), step: i % 10, timestamp: 100 + i });
      points.push({ key: 'm', value: Number.NaN, step: 0, timestamp: 1 });
      points.push({ key: 'm', value: Number.NaN, step: 9, timestamp: 99_999 });
      await log(runId, points);
      const kept = await t.runData.downsampleMetricHistory(ctx, runId, 'm', 40);
      checkDownsampled(points, kept, 40);
      assert.ok(Number.isNaN(kept[0]?.value), 'a NaN first point is kept as the first point');
      assert.ok(Number.isNaN(kept.at(-1)?.value), 'a NaN last point is kept as the last point');
    });

    it('should validate max_points', async () => {
      const runId = await newRun();
      for (const bad of [0, 10_001, 2.5]) {
        await assert.rejects(
          t.runData.downsampleMetricHistory(ctx, runId, 'm', bad),
          rejectsWith('INVALID_PARAMETER_VALUE', /^max_points/),
        );
      }
      await assert.rejects(
        t.runData.downsampleMetricHistory(ctx, 'f'.repeat(32), 'm', 10),
        rejectsWith('RESOURCE_DOES_NOT_EXIST'),
      );
    });
  });
}
