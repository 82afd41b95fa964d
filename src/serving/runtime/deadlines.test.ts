import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { KilnError } from '../../core/index.js';
import { DeadlineSweeper } from './deadlines.js';

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

describe('DeadlineSweeper', () => {
  it('answers 504 to the requests still waiting at their deadline, and to no one answered before', async () => {
    const sweeper = new DeadlineSweeper(20, 'churn');
    const timedOut: string[] = [];
    const errors: KilnError[] = [];
    const reject = (name: string) => (err: KilnError) => {
      timedOut.push(name);
      errors.push(err);
    };
    const start = performance.now();
    const a = sweeper.add(start + 20, reject('a'));
    sweeper.add(start + 20, reject('b'));
    const c = sweeper.add(start + 20, reject('c'));
    sweeper.remove(a);
    sweeper.remove(a);
    assert.equal(sweeper.size, 2);
    await sleep(80);
    assert.deepEqual(timedOut, ['b', 'c']);
    assert.equal(sweeper.size, 0);
    sweeper.remove(c);
    assert.equal(errors[0]?.code, 'DEADLINE_EXCEEDED');
    assert.equal(errors[0]?.status, 504);
    assert.equal(errors[0]?.details?.timeoutMs, 20);
    sweeper.close();
  });

  it('still times out a request added after it was closed (a late shadow of a replaced table)', async () => {
    const sweeper = new DeadlineSweeper(10, 'churn');
    sweeper.close();
    let timedOut = false;
    sweeper.add(performance.now() + 10, () => {
      timedOut = true;
    });
    await sleep(60);
    assert.equal(timedOut, true);
  });
});
