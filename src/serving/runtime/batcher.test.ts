import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { type Frame, predictModel } from '../../learn/index.js';
import { frameFromTable, rowsTable } from '../input.js';
import type { PredictorOutput } from '../types.js';
import { concatFrames, MicroBatcher, sliceOutput } from './batcher.js';
import { MemoryPredictor } from './testing/memory-loader.js';
import { type RuntimeModels, runtimeModels } from './testing/models.js';

const policy = { extraColumns: 'ignore', maxBatchRows: 10_000 } as const;

describe('concatFrames and sliceOutput', () => {
  let models: RuntimeModels;
  before(async () => {
    models = await runtimeModels();
  });

  it('predicts a concatenation of requests exactly as each request alone, categories remapped', () => {
    const predictor = new MemoryPredictor(models.penguinGbdt);
    // Different islands and sexes in different orders: each frame has its own dictionary.
    const parts = [models.penguins.slice(300, 303), models.penguins.slice(0, 2), models.penguins.slice(150, 160)];
    const frames = parts.map((rows) => frameFromTable(predictor.inputs, rowsTable(rows), policy));
    const islands = frames.map((f) => {
      const island = f.columns.find((c) => c.name === 'Island');
      return island?.kind === 'categorical' ? island.dictionary : [];
    });
    assert.notDeepEqual(islands[0], islands[1]);
    const joined = concatFrames(frames);
    assert.equal(joined.rows, 15);
    const together = predictModel(models.penguinGbdt, joined);
    let offset = 0;
    for (const frame of frames) {
      const alone = predictModel(models.penguinGbdt, frame);
      const slice = sliceOutput(together as PredictorOutput, offset, frame.rows, joined.rows);
      assert.deepEqual(slice.prediction, alone.prediction);
      assert.deepEqual(Array.from(slice.probabilities ?? []), Array.from(alone.probabilities ?? []));
      offset += frame.rows;
    }
  });

  it('joins float and datetime columns end to end', () => {
    const a: Frame = { rows: 1, columns: [{ kind: 'datetime', name: 'd', values: Float64Array.of(5) }] };
    const b: Frame = { rows: 2, columns: [{ kind: 'datetime', name: 'd', values: Float64Array.of(6, Number.NaN) }] };
    const joined = concatFrames([a, b]);
    assert.deepEqual(joined.columns[0], { kind: 'datetime', name: 'd', values: Float64Array.of(5, 6, Number.NaN) });
  });
});

describe('MicroBatcher', () => {
  const frameOf = (rows: number): Frame => ({
    rows,
    columns: [{ kind: 'float', name: 'x', values: Float64Array.from({ length: rows }, (_, i) => i) }],
  });
  const echo = (calls: number[]) => async (frame: Frame) => {
    calls.push(frame.rows);
    const x = frame.columns[0];
    return { prediction: x?.kind === 'float' ? x.values.map((v) => v * 2) : new Float64Array(0) };
  };

  it('fires as soon as a batch is full, without waiting for maxWaitMs', async () => {
    const calls: number[] = [];
    const batcher = new MicroBatcher(echo(calls), { maxBatchSize: 4, maxWaitMs: 60_000 });
    const far = performance.now() + 60_000;
    const answers = await Promise.all([batcher.submit(frameOf(1), far), batcher.submit(frameOf(3), far)]);
    assert.deepEqual(calls, [4]);
    assert.deepEqual(answers[1]?.prediction, Float64Array.of(0, 2, 4));
  });

  it('sends a lone request after maxWaitMs, and a request larger than the batch alone', async () => {
    const calls: number[] = [];
    const batcher = new MicroBatcher(echo(calls), { maxBatchSize: 4, maxWaitMs: 5 });
    const far = performance.now() + 60_000;
    await batcher.submit(frameOf(1), far);
    await batcher.submit(frameOf(9), far);
    assert.deepEqual(calls, [1, 9]);
    assert.equal(batcher.queued, 0);
  });

  it('fails every request of a batch whose predict throws, and carries on with the next', async () => {
    let fail = true;
    const batcher = new MicroBatcher(
      async (frame) => {
        if (fail) throw new Error('model crashed');
        return { prediction: new Float64Array(frame.rows) };
      },
      { maxBatchSize: 2, maxWaitMs: 5 },
    );
    const far = performance.now() + 60_000;
    const results = await Promise.allSettled([batcher.submit(frameOf(1), far), batcher.submit(frameOf(1), far)]);
    assert.deepEqual(
      results.map((r) => r.status),
      ['rejected', 'rejected'],
    );
    fail = false;
    assert.equal((await batcher.submit(frameOf(2), far)).prediction.length, 2);
  });
});
