import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { KilnError } from '../../core/index.js';
import { type ColumnarTable, stepProvenance } from '../../data/index.js';
import { PENGUINS_JSON, VEGA_DATA } from '../../data/testing/fixtures.js';
import { predictModel, type TrainedModel, trainModel } from '../../learn/index.js';
import type { Worker } from '../../store/index.js';
import { testDatabases } from '../../store/testing/databases.js';
import type { Predictor } from '../types.js';
import { SCORING_QUEUE } from './service.js';
import { openScoringHarness, type ScoringHarness } from './testing/harness.js';
import { registerModel } from './testing/loader.js';

const FLIGHTS_JSON = `${VEGA_DATA}flights-5k.json`;
const FLIGHT_FEATURES = ['distance', 'origin', 'destination'];
const PENGUIN_CLASSES = ['Adelie', 'Chinstrap', 'Gentoo'];

type TableColumn = ColumnarTable['columns'][number];

function columnOf(table: ColumnarTable, name: string): TableColumn {
  const found = table.columns.find((c) => c.name === name);
  assert.ok(found, `no column ${name}`);
  return found;
}

/** A categorical column's values as strings (null for missing). */
function labelsOf(column: TableColumn): (string | null)[] {
  assert.equal(column.kind, 'categorical', column.name);
  if (column.kind !== 'categorical') return [];
  return Array.from(column.codes, (code) => (code < 0 ? null : (column.dictionary[code] as string)));
}

function numbersOf(column: TableColumn): number[] {
  assert.notEqual(column.kind, 'categorical', column.name);
  return column.kind === 'categorical' ? [] : Array.from(column.values);
}

async function rejects(promise: Promise<unknown>, status: number, field: string, pattern: RegExp): Promise<void> {
  await assert.rejects(promise, (err: unknown) => {
    assert.ok(err instanceof KilnError, String(err));
    assert.equal(err.status, status, err.message);
    assert.equal(err.details?.field, field, err.message);
    assert.match(err.message, pattern);
    return true;
  });
}

/** A predictor that answers as `inner` until its `failOn`-th call, which throws. */
function failingOn(inner: Predictor, failOn: number): Predictor {
  let calls = 0;
  return {
    flavour: inner.flavour,
    task: inner.task,
    inputs: inner.inputs,
    ...(inner.classes === undefined ? {} : { classes: inner.classes }),
    signature: inner.signature,
    async predict(frame) {
      calls += 1;
      if (calls === failOn) throw new Error(`the model broke on chunk ${calls}`);
      return inner.predict(frame);
    },
    close: () => inner.close(),
  };
}

let penguinModel: TrainedModel | undefined;
let flightModel: TrainedModel | undefined;

for (const target of await testDatabases()) {
  describe(`batch scoring on ${target.name} (file blobs, local queue, Kiln GBDT models)`, { skip: target.skip }, () => {
    let h: ScoringHarness;
    let worker: Worker;
    before(async () => {
      h = await openScoringHarness(await target.create());
      await h.datasets.create(h.ctx, { name: 'penguins' });
      await h.datasets.ingestVersion(h.ctx, 'penguins', { path: PENGUINS_JSON });
      await h.datasets.create(h.ctx, { name: 'flights' });
      await h.datasets.ingestVersion(h.ctx, 'flights', { path: FLIGHTS_JSON });
      penguinModel ??= (
        await trainModel(await h.datasets.readColumns(h.ctx, 'penguins', 1), {
          task: 'classification',
          target: 'Species',
          model: 'gbdt',
          params: { n_estimators: 12, max_depth: 3 },
        })
      ).model;
      flightModel ??= (
        await trainModel(
          await h.datasets.readColumns(h.ctx, 'flights', 1, { columns: [...FLIGHT_FEATURES, 'delay'] }),
          {
            task: 'regression',
            target: 'delay',
            features: FLIGHT_FEATURES,
            model: 'gbdt',
            params: { n_estimators: 15 },
          },
        )
      ).model;
      assert.equal(await registerModel(h, 'penguins', penguinModel, 'champion'), 1);
      assert.equal(await registerModel(h, 'flights', flightModel), 1);
      worker = h.scoring.process({ concurrency: 1 });
    });
    after(async () => {
      await worker?.close();
      await h?.close();
    });

    it('scores a version through an alias on the queue: input columns, prediction and class probabilities as predictModel gives them, with lineage', async () => {
      const job = await h.scoring.submit(h.ctx, {
        model: 'models:/penguins@champion',
        data: 'penguins@1',
        out: 'penguins-scored',
        chunkRows: 100,
      });
      assert.equal(job.state, 'queued');
      assert.deepEqual(job.model, { name: 'penguins', version: 1 }, 'the alias is resolved when submitted');
      assert.deepEqual(job.input, { dataset: 'penguins', version: 1 });
      assert.deepEqual(job.progress, { rowsScored: 0, totalRows: 344, chunksDone: 0, totalChunks: 4 });
      const queued = await h.queue.waitFor(SCORING_QUEUE, job.id, 120_000);
      assert.equal(queued.state, 'completed', queued.error);

      const done = await h.scoring.get(h.ctx, job.id);
      assert.equal(done.state, 'succeeded', done.error);
      assert.deepEqual(done.output, { dataset: 'penguins-scored', version: 1 });
      assert.deepEqual(done.progress, { rowsScored: 344, totalRows: 344, chunksDone: 4, totalChunks: 4 });
      assert.ok(done.startedAt !== undefined && done.finishedAt !== undefined);

      const input = await h.datasets.getVersion(h.ctx, 'penguins', 1);
      const scored = await h.datasets.getVersion(h.ctx, 'penguins-scored', 1);
      assert.equal(scored.rowCount, 344);
      assert.deepEqual(
        scored.schema.columns.map((c) => c.name),
        [...input.schema.columns.map((c) => c.name), 'prediction', ...PENGUIN_CLASSES.map((c) => `probability_${c}`)],
      );

      const inputColumns = await h.datasets.readColumns(h.ctx, 'penguins', 1);
      const scoredColumns = await h.datasets.readColumns(h.ctx, 'penguins-scored', 1);
      for (const column of inputColumns.columns) {
        assert.deepEqual(columnOf(scoredColumns, column.name), column, `input column ${column.name} is kept as is`);
      }
      const expected = predictModel(penguinModel as TrainedModel, inputColumns);
      assert.deepEqual(labelsOf(columnOf(scoredColumns, 'prediction')), expected.prediction);
      const probabilities = expected.probabilities as Float64Array;
      PENGUIN_CLASSES.forEach((label, c) => {
        const expectedClass = Array.from({ length: 344 }, (_, r) => probabilities[r * 3 + c] as number);
        assert.deepEqual(numbersOf(columnOf(scoredColumns, `probability_${label}`)), expectedClass, label);
      });

      assert.equal(scored.sourceKind, 'step');
      assert.deepEqual(stepProvenance(scored), {
        step: 'predict',
        job: job.id,
        model: { name: 'penguins', version: 1 },
        params: { chunkRows: 100 },
      });
      assert.deepEqual(scored.inputs, [{ dataset: 'penguins', version: 1, role: 'predict' }]);
      const lineage = await h.datasets.lineage(h.ctx, 'penguins', 1);
      assert.deepEqual(lineage.edges, [
        { from: { dataset: 'penguins', version: 1 }, to: { dataset: 'penguins-scored', version: 1 }, role: 'predict' },
      ]);
    });

    it('gives the same rows and predictions in 1,000-row chunks as in one chunk, equal to predictModel', async () => {
      const chunked = await h.scoring.submit(h.ctx, {
        model: 'models:/flights/1',
        data: 'flights',
        out: 'flights-scored',
        chunkRows: 1000,
      });
      assert.equal(chunked.progress.totalChunks, 5);
      assert.equal((await h.queue.waitFor(SCORING_QUEUE, chunked.id, 120_000)).state, 'completed');
      const whole = await h.scoring.submit(h.ctx, {
        model: 'models:/flights/1',
        data: 'flights@1',
        out: 'flights-scored',
        chunkRows: 1_000_000,
      });
      assert.equal(whole.progress.totalChunks, 1);
      assert.equal((await h.queue.waitFor(SCORING_QUEUE, whole.id, 120_000)).state, 'completed');
      assert.deepEqual((await h.scoring.get(h.ctx, chunked.id)).output, { dataset: 'flights-scored', version: 1 });
      assert.deepEqual((await h.scoring.get(h.ctx, whole.id)).output, { dataset: 'flights-scored', version: 2 });

      const features = await h.datasets.readColumns(h.ctx, 'flights', 1, { columns: FLIGHT_FEATURES });
      const expected = Array.from(predictModel(flightModel as TrainedModel, features).prediction as Float64Array);
      assert.equal(expected.length, 5000);
      const columns = [...FLIGHT_FEATURES, 'delay', 'prediction'];
      const one = await h.datasets.readColumns(h.ctx, 'flights-scored', 1, { columns });
      const two = await h.datasets.readColumns(h.ctx, 'flights-scored', 2, { columns });
      assert.deepEqual(numbersOf(columnOf(one, 'prediction')), expected);
      assert.deepEqual(one, two, 'chunking changes nothing');
      const original = await h.datasets.readColumns(h.ctx, 'flights', 1, { columns: [...FLIGHT_FEATURES, 'delay'] });
      for (const column of original.columns) assert.deepEqual(columnOf(one, column.name), column, column.name);
      const scored = await h.datasets.getVersion(h.ctx, 'flights-scored', 1);
      assert.equal(scored.schema.columns.find((c) => c.name === 'prediction')?.logicalType, 'float');
    });

    it('refuses unknown models, datasets and versions with 404 and bad requests with 400, naming the field', async () => {
      const base = { model: 'models:/penguins/1', data: 'penguins@1', out: 'nowhere' };
      await rejects(h.scoring.submit(h.ctx, { ...base, model: 'models:/albatross/1' }), 404, 'model', /albatross/);
      await rejects(h.scoring.submit(h.ctx, { ...base, model: 'models:/penguins/7' }), 404, 'model', /version 7/);
      await rejects(
        h.scoring.submit(h.ctx, { ...base, model: 'models:/penguins@challenger' }),
        404,
        'model',
        /challenger/,
      );
      await rejects(h.scoring.submit(h.ctx, { ...base, data: 'puffins@1' }), 404, 'data', /puffins/);
      await rejects(h.scoring.submit(h.ctx, { ...base, data: 'penguins@9' }), 404, 'data', /no version 9/);
      await rejects(h.scoring.submit(h.ctx, { ...base, data: 'penguins@0' }), 400, 'data', /name@version/);
      await rejects(h.scoring.submit(h.ctx, { ...base, model: '/etc/model.json' }), 400, 'model', /do not read files/);
      await rejects(h.scoring.submit(h.ctx, { ...base, model: 'models:/penguins/latest' }), 400, 'model', /latest/);
      await rejects(h.scoring.submit(h.ctx, { ...base, out: 'no spaces' }), 400, 'out', /dataset name/);
      await rejects(h.scoring.submit(h.ctx, { ...base, chunkRows: 0 }), 400, 'chunkRows', /1 to 1000000/);
      await rejects(h.scoring.submit(h.ctx, { ...base, colour: 'red' }), 400, 'colour', /not a scoring request field/);
      await rejects(h.scoring.get(h.ctx, 'score-nope'), 404, 'id', /score-nope/);
      await assert.rejects(h.datasets.get(h.ctx, 'nowhere'), /does not exist/, 'no output dataset was created');
    });

    it('refuses data missing a column the model needs, or holding it as the wrong type, before any version exists', async () => {
      await h.datasets.derive(h.ctx, 'penguins-no-island', {
        sql: `select * exclude ("Island") from dataset('penguins', 1)`,
      });
      await assert.rejects(
        h.scoring.submit(h.ctx, { model: 'models:/penguins/1', data: 'penguins-no-island', out: 'islandless-scored' }),
        (err: unknown) => {
          assert.ok(err instanceof KilnError);
          assert.equal(err.status, 400);
          assert.equal(err.details?.field, 'data');
          assert.equal(err.details?.column, 'Island');
          assert.match(err.message, /no column 'Island'.*penguins-no-island@1; model penguins version 1 needs it/);
          return true;
        },
      );
      await h.datasets.derive(h.ctx, 'penguins-text-mass', {
        sql: `select * replace ('mass ' || "Body Mass (g)" as "Body Mass (g)") from dataset('penguins', 1)`,
      });
      await assert.rejects(
        h.scoring.submit(h.ctx, { model: 'models:/penguins/1', data: 'penguins-text-mass', out: 'islandless-scored' }),
        (err: unknown) => {
          assert.ok(err instanceof KilnError);
          assert.equal(err.status, 400);
          assert.equal(err.details?.column, 'Body Mass (g)');
          assert.match(err.message, /column 'Body Mass \(g\)' is (string|categorical); it is needed as numbers/);
          return true;
        },
      );
      await assert.rejects(h.datasets.get(h.ctx, 'islandless-scored'), /does not exist/);
      const { jobs } = await h.scoring.list(h.ctx, { maxResults: 500 });
      assert.ok(!jobs.some((j) => j.request.out === 'islandless-scored'), 'nothing was queued');
    });

    it('records a job that fails mid-way as failed and leaves no version, not even an empty output dataset', async () => {
      h.loader.wrap = (predictor) => failingOn(predictor, 3);
      try {
        const job = await h.scoring.submit(h.ctx, {
          model: 'models:/flights/1',
          data: 'flights@1',
          out: 'flights-broken',
          chunkRows: 1000,
        });
        const queued = await h.queue.waitFor(SCORING_QUEUE, job.id, 120_000);
        assert.equal(queued.state, 'failed');
        const done = await h.scoring.get(h.ctx, job.id);
        assert.equal(done.state, 'failed');
        assert.match(done.error ?? '', /the model broke on chunk 3/);
        assert.equal(done.output, undefined);
        assert.ok(done.progress.chunksDone < 3, `progress stops before the failed chunk (${done.progress.chunksDone})`);
      } finally {
        h.loader.wrap = undefined;
      }
      await assert.rejects(h.datasets.get(h.ctx, 'flights-broken'), /does not exist/);
      const closed = await Promise.all(
        h.loader.loaded.map((p) =>
          p.predict({ rows: 0, columns: [] }).then(
            () => false,
            () => true,
          ),
        ),
      );
      assert.ok(closed.length > 0 && closed.every(Boolean), 'every model loaded, to check or to score, was closed');
    });

    it('lists the workspace jobs newest first, a page at a time, and keeps workspaces apart', async () => {
      const first = await h.scoring.list(h.ctx, { maxResults: 2 });
      assert.equal(first.jobs.length, 2);
      assert.ok(first.nextPageToken !== undefined);
      const rest = await h.scoring.list(h.ctx, { pageToken: first.nextPageToken, maxResults: 500 });
      const all = [...first.jobs, ...rest.jobs];
      assert.equal(all.length, 4, 'the four jobs submitted above');
      const created = all.map((j) => j.createdAt);
      assert.deepEqual(created, [...created].sort().reverse());
      const other = await h.scoring.list({ ...h.ctx, workspace: 'other' });
      assert.deepEqual(other.jobs, []);
      await rejects(
        h.scoring.get({ ...h.ctx, workspace: 'other' }, (all[0] as { id: string }).id),
        404,
        'id',
        /does not exist/,
      );
    });
  });
}
