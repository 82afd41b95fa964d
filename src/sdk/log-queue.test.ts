import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type LogBatch, LogQueue } from './log-queue.js';

const point = (step: number) => ({ key: 'm', value: step, timestamp: 0, step });

describe('LogQueue', () => {
  it('should send a full batch without waiting for flush, and the rest on flush, in order', async () => {
    const sent: LogBatch[] = [];
    const queue = new LogQueue(async (batch) => {
      sent.push(batch);
    }, 60_000);
    queue.add({ metrics: Array.from({ length: 1500 }, (_, i) => point(i)) });
    queue.add({ params: Array.from({ length: 250 }, (_, i) => ({ key: `p${i}`, value: 'v' })) });
    await Promise.resolve();
    await Promise.resolve();
    assert.ok(sent.length >= 1, 'a full batch goes out before flush');
    await queue.flush();
    assert.deepEqual(
      sent.map((b) => [b.metrics.length, b.params.length]),
      [
        [1000, 0],
        [500, 100],
        [0, 100],
        [0, 50],
      ],
    );
    assert.deepEqual(
      sent.flatMap((b) => b.metrics.map((m) => m.step)),
      Array.from({ length: 1500 }, (_, i) => i),
    );
  });

  it('should report the first failure once and still send the later batches', async () => {
    const delivered: number[] = [];
    let calls = 0;
    const queue = new LogQueue(async (batch) => {
      calls++;
      if (calls === 1) throw new Error('first batch refused');
      delivered.push(...batch.metrics.map((m) => m.step));
    });
    queue.add({ metrics: Array.from({ length: 1500 }, (_, i) => point(i)) });
    await assert.rejects(queue.flush(), /first batch refused/);
    await queue.flush();
    assert.equal(calls, 2);
    assert.deepEqual(
      delivered,
      Array.from({ length: 500 }, (_, i) => 1000 + i),
    );
  });
});
