import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { KilnError } from '../../core/index.js';
import type { DeploymentSpec } from '../types.js';
import { checkDeploymentInput, checkDeploymentUpdate, promoteSpec, specToWire } from './spec.js';

/** Asserts `fn` throws a KilnError of `code` naming `field` (details.field and the message). */
function refuses(fn: () => unknown, field: string, code = 'INVALID_PARAMETER_VALUE', message?: RegExp): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof KilnError, String(err));
    assert.equal(err.code, code, err.message);
    assert.equal(err.details?.field, field, err.message);
    assert.ok(err.message.startsWith(`${field}: `), err.message);
    if (message !== undefined) assert.match(err.message, message);
    return true;
  });
}

const CHAMPION = 'models:/flights@champion';
const V4 = 'models:/flights/4';
const V5 = 'models:/flights/5';

describe('checkDeploymentInput', () => {
  test('a single model gets every default', () => {
    const spec = checkDeploymentInput({ name: 'flights', targets: [{ model: CHAMPION }] }, 'team-a');
    assert.deepEqual(spec, {
      workspace: 'team-a',
      name: 'flights',
      strategy: 'single',
      targets: [{ model: CHAMPION, role: 'primary', weight: 100 }],
      maxQueue: 1000,
      timeoutMs: 10_000,
      input: { extraColumns: 'ignore', maxBatchRows: 10_000 },
      logging: { sampleRate: 1 },
    });
  });

  test('snake_case settings map to the camelCase spec; the strategy follows the roles; the primary keeps the rest', () => {
    const spec = checkDeploymentInput(
      {
        name: 'flights',
        targets: [
          { model: V4, role: 'canary', weight: 15 },
          { model: CHAMPION },
          { model: V5, role: 'shadow', weight: 50 },
        ],
        batching: { max_batch_size: 64, max_wait_ms: 3 },
        max_queue: 200,
        timeout_ms: 2500,
        input: { extra_columns: 'reject', max_batch_rows: 500 },
        logging: { sample_rate: 0.25 },
      },
      'default',
    );
    assert.equal(spec.strategy, 'canary');
    assert.deepEqual(spec.targets, [
      { model: CHAMPION, role: 'primary', weight: 85 },
      { model: V4, role: 'canary', weight: 15 },
      { model: V5, role: 'shadow', weight: 50 },
    ]);
    assert.deepEqual(spec.batching, { maxBatchSize: 64, maxWaitMs: 3 });
    assert.equal(spec.maxQueue, 200);
    assert.equal(spec.timeoutMs, 2500);
    assert.deepEqual(spec.input, { extraColumns: 'reject', maxBatchRows: 500 });
    assert.deepEqual(spec.logging, { sampleRate: 0.25 });
  });

  test('defaults: canary 10 %, shadow 100 %, equal A/B shares, batching {} on with its defaults', () => {
    const canary = checkDeploymentInput(
      { name: 'c', strategy: 'canary', targets: [{ model: CHAMPION }, { model: V4, role: 'canary' }] },
      'default',
    );
    assert.deepEqual(
      canary.targets.map((t) => t.weight),
      [90, 10],
    );
    const shadow = checkDeploymentInput(
      { name: 's', targets: [{ model: CHAMPION }, { model: V4, role: 'shadow' }], batching: {} },
      'default',
    );
    assert.equal(shadow.strategy, 'shadow');
    assert.equal(shadow.targets[1]?.weight, 100);
    assert.deepEqual(shadow.batching, { maxBatchSize: 32, maxWaitMs: 2 });
    const ab = checkDeploymentInput(
      { name: 'ab', strategy: 'ab', targets: [{ model: V4 }, { model: V5 }, { model: CHAMPION, weight: 40 }] },
      'default',
    );
    assert.deepEqual(
      ab.targets.map((t) => [t.role, t.weight]),
      [
        ['variant', 30],
        ['variant', 30],
        ['variant', 40],
      ],
    );
    const thirds = checkDeploymentInput(
      { name: 'ab3', targets: [V4, V5, CHAMPION].map((model) => ({ model, role: 'variant' })) },
      'default',
    );
    assert.equal(thirds.strategy, 'ab');
    assert.ok(Math.abs(thirds.targets.reduce((s, t) => s + t.weight, 0) - 100) < 1e-9);
  });

  test('camelCase keys are read too, and a spec survives its wire form', () => {
    const spec = checkDeploymentInput(
      {
        name: 'flights',
        targets: [{ model: CHAMPION }],
        maxQueue: 7,
        batching: { maxBatchSize: 5, maxWaitMs: 0 },
        input: { extraColumns: 'reject' },
      },
      'default',
    );
    assert.equal(spec.maxQueue, 7);
    assert.deepEqual(spec.batching, { maxBatchSize: 5, maxWaitMs: 0 });
    assert.deepEqual(checkDeploymentInput(specToWire(spec), 'default'), spec);
  });

  test('every problem is a 400 naming its field', () => {
    const base = { name: 'flights', targets: [{ model: CHAMPION }] };
    refuses(() => checkDeploymentInput('x', 'default'), 'body');
    refuses(() => checkDeploymentInput({ targets: [{ model: CHAMPION }] }, 'default'), 'name');
    refuses(() => checkDeploymentInput({ ...base, name: 'a/b' }, 'default'), 'name', undefined, /'\/'/);
    refuses(() => checkDeploymentInput({ ...base, name: ' padded' }, 'default'), 'name');
    refuses(() => checkDeploymentInput({ name: 'f' }, 'default'), 'targets');
    refuses(() => checkDeploymentInput({ name: 'f', targets: [] }, 'default'), 'targets');
    refuses(() => checkDeploymentInput({ ...base, strategy: 'blue-green' }, 'default'), 'strategy');
    refuses(
      () => checkDeploymentInput({ ...base, colour: 'red' }, 'default'),
      'colour',
      undefined,
      /not a deployment field/,
    );
    refuses(() => checkDeploymentInput({ ...base, workspace: 'other' }, 'default'), 'workspace');
    refuses(() => checkDeploymentInput({ name: 'f', targets: ['models:/x/1'] }, 'default'), 'targets[0]');
    refuses(
      () => checkDeploymentInput({ name: 'f', targets: [{ model: 'runs:/abc/model' }] }, 'default'),
      'targets[0].model',
    );
    refuses(
      () => checkDeploymentInput({ name: 'f', targets: [{ model: '/srv/model.onnx' }] }, 'default'),
      'targets[0].model',
    );
    refuses(
      () => checkDeploymentInput({ name: 'f', targets: [{ model: 'models:/flights/0' }] }, 'default'),
      'targets[0].model',
    );
    refuses(
      () => checkDeploymentInput({ name: 'f', targets: [{ model: 'models:/flights/x1' }] }, 'default'),
      'targets[0].model',
    );
    refuses(
      () => checkDeploymentInput({ name: 'f', targets: [{ model: 'models:/flights@v3' }] }, 'default'),
      'targets[0].model',
    );
    refuses(
      () => checkDeploymentInput({ name: 'f', targets: [{ model: 'models:/flights' }] }, 'default'),
      'targets[0].model',
    );
    refuses(
      () => checkDeploymentInput({ name: 'f', targets: [{ model: CHAMPION, role: 'leader' }] }, 'default'),
      'targets[0].role',
    );
    refuses(
      () => checkDeploymentInput({ name: 'f', targets: [{ model: CHAMPION, version: 3 }] }, 'default'),
      'targets[0].version',
    );
    refuses(
      () =>
        checkDeploymentInput(
          { name: 'f', targets: [{ model: CHAMPION }, { model: V4, role: 'canary', weight: 120 }] },
          'default',
        ),
      'targets[1].weight',
      undefined,
      /0 to 100/,
    );
    refuses(
      () =>
        checkDeploymentInput(
          { name: 'f', targets: [{ model: CHAMPION }, { model: V4, role: 'canary', weight: '10' }] },
          'default',
        ),
      'targets[1].weight',
    );
    refuses(
      () =>
        checkDeploymentInput(
          { name: 'f', targets: [{ model: CHAMPION }, { model: CHAMPION, role: 'shadow' }] },
          'default',
        ),
      'targets[1].model',
      undefined,
      /already targets\[0\]/,
    );
    refuses(
      () => checkDeploymentInput({ ...base, batching: { max_batch_size: 0 } }, 'default'),
      'batching.max_batch_size',
    );
    refuses(
      () => checkDeploymentInput({ ...base, batching: { max_batch_size: 2.5 } }, 'default'),
      'batching.max_batch_size',
    );
    refuses(
      () => checkDeploymentInput({ ...base, batching: { max_wait_ms: 1001 } }, 'default'),
      'batching.max_wait_ms',
    );
    refuses(() => checkDeploymentInput({ ...base, batching: { size: 3 } }, 'default'), 'batching.size');
    refuses(() => checkDeploymentInput({ ...base, batching: 'on' }, 'default'), 'batching');
    refuses(() => checkDeploymentInput({ ...base, max_queue: 0 }, 'default'), 'max_queue');
    refuses(() => checkDeploymentInput({ ...base, timeout_ms: -5 }, 'default'), 'timeout_ms');
    refuses(
      () => checkDeploymentInput({ ...base, input: { extra_columns: 'drop' } }, 'default'),
      'input.extra_columns',
    );
    refuses(() => checkDeploymentInput({ ...base, input: { max_batch_rows: 0 } }, 'default'), 'input.max_batch_rows');
    refuses(() => checkDeploymentInput({ ...base, logging: { sample_rate: 1.5 } }, 'default'), 'logging.sample_rate');
    refuses(
      () => checkDeploymentInput({ ...base, logging: { sample_rate: Number.NaN } }, 'default'),
      'logging.sample_rate',
    );
  });

  test('strategy rules name the offending target', () => {
    const t = (...targets: object[]) => targets;
    // single: one primary, no canary
    refuses(
      () => checkDeploymentInput({ name: 'f', targets: t({ model: CHAMPION }, { model: V4 }) }, 'default'),
      'targets[1].role',
      undefined,
      /one primary/,
    );
    refuses(
      () =>
        checkDeploymentInput(
          { name: 'f', strategy: 'single', targets: t({ model: CHAMPION }, { model: V4, role: 'canary' }) },
          'default',
        ),
      'targets[1].role',
      undefined,
      /strategy 'canary'/,
    );
    // canary: a primary and exactly one canary
    refuses(
      () => checkDeploymentInput({ name: 'f', strategy: 'canary', targets: t({ model: CHAMPION }) }, 'default'),
      'targets',
      undefined,
      /role 'canary'/,
    );
    refuses(
      () =>
        checkDeploymentInput(
          { name: 'f', targets: t({ model: CHAMPION }, { model: V4, role: 'canary' }, { model: V5, role: 'canary' }) },
          'default',
        ),
      'targets[2].role',
    );
    refuses(
      () =>
        checkDeploymentInput({ name: 'f', strategy: 'canary', targets: t({ model: V4, role: 'canary' }) }, 'default'),
      'targets',
      undefined,
      /primary/,
    );
    // ab: at least two variants summing to 100, no primary
    refuses(
      () => checkDeploymentInput({ name: 'f', strategy: 'ab', targets: t({ model: V4 }) }, 'default'),
      'targets',
      undefined,
      /two/,
    );
    refuses(
      () =>
        checkDeploymentInput(
          { name: 'f', strategy: 'ab', targets: t({ model: V4, weight: 60 }, { model: V5, weight: 30 }) },
          'default',
        ),
      'targets[1].weight',
      undefined,
      /sum to 90/,
    );
    refuses(
      () =>
        checkDeploymentInput(
          {
            name: 'f',
            strategy: 'ab',
            targets: t({ model: V4, weight: 70 }, { model: V5, weight: 60 }, { model: CHAMPION }),
          },
          'default',
        ),
      'targets[2].weight',
    );
    refuses(
      () =>
        checkDeploymentInput(
          { name: 'f', strategy: 'ab', targets: t({ model: V4 }, { model: V5 }, { model: CHAMPION, role: 'primary' }) },
          'default',
        ),
      'targets[2].role',
    );
    // shadow: a primary and at least one shadow
    refuses(
      () => checkDeploymentInput({ name: 'f', strategy: 'shadow', targets: t({ model: CHAMPION }) }, 'default'),
      'targets',
      undefined,
      /shadow/,
    );
    refuses(
      () =>
        checkDeploymentInput(
          { name: 'f', targets: t({ model: CHAMPION }, { model: V4, role: 'shadow', weight: 101 }) },
          'default',
        ),
      'targets[1].weight',
    );
  });

  test('shadows may join any strategy', () => {
    const ab = checkDeploymentInput(
      {
        name: 'f',
        targets: [
          { model: V4, role: 'variant', weight: 50 },
          { model: CHAMPION, role: 'shadow', weight: 20 },
          { model: V5, role: 'variant', weight: 50 },
        ],
      },
      'default',
    );
    assert.equal(ab.strategy, 'ab');
    assert.deepEqual(
      ab.targets.map((t) => t.role),
      ['variant', 'variant', 'shadow'],
    );
    const single = checkDeploymentInput(
      { name: 'f', strategy: 'single', targets: [{ model: CHAMPION }, { model: V4, role: 'shadow', weight: 5 }] },
      'default',
    );
    assert.equal(single.strategy, 'single');
  });
});

describe('checkDeploymentUpdate', () => {
  const current: DeploymentSpec = checkDeploymentInput(
    {
      name: 'flights',
      targets: [{ model: CHAMPION }, { model: V4, role: 'canary', weight: 10 }],
      batching: { max_batch_size: 16 },
      logging: { sample_rate: 0.5 },
    },
    'default',
  );

  test('given fields replace; input, logging and batching merge; batching null turns it off', () => {
    const next = checkDeploymentUpdate(current, { batching: { max_wait_ms: 7 }, input: { extra_columns: 'reject' } });
    assert.deepEqual(next.batching, { maxBatchSize: 16, maxWaitMs: 7 });
    assert.deepEqual(next.input, { extraColumns: 'reject', maxBatchRows: 10_000 });
    assert.deepEqual(next.logging, { sampleRate: 0.5 });
    assert.deepEqual(next.targets, current.targets);
    assert.equal(checkDeploymentUpdate(current, { batching: null }).batching, undefined);
    assert.equal(checkDeploymentUpdate(current, { timeoutMs: 99 }).timeoutMs, 99);
  });

  test('new targets bring their own strategy unless one is given', () => {
    const single = checkDeploymentUpdate(current, { targets: [{ model: V5 }] });
    assert.equal(single.strategy, 'single');
    assert.deepEqual(single.targets, [{ model: V5, role: 'primary', weight: 100 }]);
    const reweighted = checkDeploymentUpdate(current, {
      targets: [{ model: CHAMPION }, { model: V4, role: 'canary', weight: 30 }],
    });
    assert.deepEqual(
      reweighted.targets.map((t) => t.weight),
      [70, 30],
    );
    refuses(() => checkDeploymentUpdate(current, { strategy: 'shadow' }), 'targets[1].role');
  });

  test('a rename, an empty change and bad values are refused naming the field', () => {
    refuses(() => checkDeploymentUpdate(current, { name: 'other' }), 'name');
    refuses(() => checkDeploymentUpdate(current, {}), 'body');
    refuses(() => checkDeploymentUpdate(current, { max_queue: 'lots' }), 'max_queue');
    refuses(() => checkDeploymentUpdate(current, { batching: { max_batch_size: 20_000 } }), 'batching.max_batch_size');
    assert.equal(checkDeploymentUpdate(current, { name: 'flights', max_queue: 5 }).maxQueue, 5);
  });
});

describe('promoteSpec', () => {
  test('a canary becomes the single primary; shadows stay', () => {
    const spec = checkDeploymentInput(
      {
        name: 'f',
        targets: [
          { model: CHAMPION },
          { model: V4, role: 'canary', weight: 20 },
          { model: V5, role: 'shadow', weight: 10 },
        ],
      },
      'default',
    );
    const promoted = promoteSpec(spec);
    assert.equal(promoted.strategy, 'single');
    assert.deepEqual(promoted.targets, [
      { model: V4, role: 'primary', weight: 100 },
      { model: V5, role: 'shadow', weight: 10 },
    ]);
    assert.deepEqual(checkDeploymentInput(specToWire(promoted), 'default'), promoted);
  });

  test('a named shadow replaces the primary; the other shadows keep the strategy shadow', () => {
    const spec = checkDeploymentInput(
      {
        name: 'f',
        targets: [{ model: CHAMPION }, { model: V4, role: 'shadow' }, { model: V5, role: 'shadow', weight: 30 }],
      },
      'default',
    );
    refuses(() => promoteSpec(spec), 'target', 'INVALID_PARAMETER_VALUE', /2 shadows/);
    const promoted = promoteSpec(spec, V5);
    assert.equal(promoted.strategy, 'shadow');
    assert.deepEqual(promoted.targets, [
      { model: V5, role: 'primary', weight: 100 },
      { model: V4, role: 'shadow', weight: 100 },
    ]);
    const last = promoteSpec(promoted);
    assert.equal(last.strategy, 'single');
    assert.deepEqual(last.targets, [{ model: V4, role: 'primary', weight: 100 }]);
  });

  test('an A/B variant must be named and becomes the single primary', () => {
    const spec = checkDeploymentInput(
      { name: 'f', strategy: 'ab', targets: [{ model: V4 }, { model: V5 }] },
      'default',
    );
    refuses(() => promoteSpec(spec), 'target');
    refuses(() => promoteSpec(spec, 'models:/flights/9'), 'target', 'INVALID_PARAMETER_VALUE', /not a target/);
    const promoted = promoteSpec(spec, V5);
    assert.deepEqual(promoted, { ...spec, strategy: 'single', targets: [{ model: V5, role: 'primary', weight: 100 }] });
  });

  test('nothing to promote, or promoting the primary, is INVALID_STATE', () => {
    const spec = checkDeploymentInput({ name: 'f', targets: [{ model: CHAMPION }] }, 'default');
    assert.throws(
      () => promoteSpec(spec),
      (err: unknown) => err instanceof KilnError && err.code === 'INVALID_STATE',
    );
    assert.throws(
      () => promoteSpec(spec, CHAMPION),
      (err: unknown) =>
        err instanceof KilnError && err.code === 'INVALID_STATE' && /already the primary/.test(err.message),
    );
  });
});
