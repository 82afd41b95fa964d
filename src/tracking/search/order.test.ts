import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { KilnError } from '../../core/index.js';
import type { SearchTarget } from './entities.js';
import { completeOrder, MAX_ORDER_CLAUSES, parseOrderBy } from './order.js';

function order(target: SearchTarget, clauses: string[]): string[] {
  return completeOrder(target, parseOrderBy(target, clauses)).map((c) => `${c.entity}:${c.key} ${c.direction}`);
}

function rejects(target: SearchTarget, clauses: unknown[], fragment: string, index?: number, position?: number): void {
  let caught: unknown;
  try {
    parseOrderBy(target, clauses as string[]);
  } catch (err) {
    caught = err;
  }
  assert.ok(caught instanceof KilnError, `expected ${target} to reject ${JSON.stringify(clauses)}`);
  assert.equal(caught.code, 'INVALID_PARAMETER_VALUE');
  assert.ok(caught.message.includes(fragment), `${caught.message}\n  should include: ${fragment}`);
  assert.equal(caught.details?.field, 'order_by');
  if (index !== undefined) assert.equal(caught.details?.index, index, caught.message);
  if (position !== undefined) assert.equal(caught.details?.position, position, caught.message);
}

describe('parseOrderBy', () => {
  it('parses entities, quoted keys and directions in any case', () => {
    assert.deepEqual(
      parseOrderBy('runs', ['metrics.acc DESC', 'params."learning rate"', '`tags`.x asc', 'created desc']),
      [
        { entity: 'metric', key: 'acc', direction: 'DESC' },
        { entity: 'param', key: 'learning rate', direction: 'ASC' },
        { entity: 'tag', key: 'x', direction: 'ASC' },
        { entity: 'attribute', key: 'start_time', direction: 'DESC' },
      ],
    );
    assert.deepEqual(parseOrderBy('runs', undefined), []);
    assert.deepEqual(parseOrderBy('runs', null), []);
  });

  it('accepts dotted tag keys and attribute aliases', () => {
    assert.deepEqual(parseOrderBy('runs', ['tags.mlflow.runName', 'attributes.`Run name` DESC']), [
      { entity: 'tag', key: 'mlflow.runName', direction: 'ASC' },
      { entity: 'attribute', key: 'run_name', direction: 'DESC' },
    ]);
    assert.deepEqual(parseOrderBy('registered_models', ['timestamp DESC']), [
      { entity: 'attribute', key: 'creation_timestamp', direction: 'DESC' },
    ]);
    assert.deepEqual(parseOrderBy('model_versions', ['version_number']), [
      { entity: 'attribute', key: 'version', direction: 'ASC' },
    ]);
  });

  it('rejects bad directions and trailing tokens with the column inside the clause', () => {
    rejects('runs', ['start_time', 'metrics.acc UP'], "order_by[1]: unexpected token 'UP' at column 13", 1, 13);
    rejects('runs', ['metrics.acc DESC x'], "unexpected token 'x' after DESC at column 18: one key per clause", 0, 18);
    rejects('runs', ['metrics.acc, params.b'], "unexpected token ','", 0, 12);
    rejects('runs', [''], 'order_by[0]: expected an identifier at the end (column 1)', 0, 1);
    rejects('runs', [42], 'order_by[0]: must be a string', 0);
  });

  it('rejects what a target cannot order by', () => {
    rejects('runs', ['datasets.name'], 'runs cannot be ordered by datasets (datasets.name) at column 1', 0, 1);
    rejects(
      'runs',
      ['foo'],
      "unknown attribute 'foo' at column 1: runs can be ordered by run_id, run_name, status",
      0,
      1,
    );
    rejects('experiments', ['tags.x'], 'experiments cannot be ordered by tags', 0, 1);
    rejects('registered_models', ['version'], "unknown attribute 'version'", 0, 1);
    rejects('model_versions', ['run_id'], "unknown attribute 'run_id'", 0, 1);
  });

  it('rejects a key ordered on twice, through aliases too', () => {
    rejects(
      'runs',
      ['created', 'start_time DESC'],
      'attributes.start_time is ordered on twice at column 1: order_by[0] already orders on it',
      1,
      1,
    );
    rejects('runs', ['metrics.a', 'metric.a DESC'], 'metrics.a is ordered on twice', 1);
  });

  it(`allows at most ${MAX_ORDER_CLAUSES} clauses`, () => {
    const clauses = Array.from({ length: MAX_ORDER_CLAUSES }, (_, i) => `metrics.m${i}`);
    assert.equal(parseOrderBy('runs', clauses).length, MAX_ORDER_CLAUSES);
    rejects('runs', [...clauses, 'metrics.extra'], 'order_by: has 11 clauses; the limit is 10');
  });
});

describe('completeOrder', () => {
  it('runs: start_time DESC then run_id by default and as tie-breakers', () => {
    assert.deepEqual(order('runs', []), ['attribute:start_time DESC', 'attribute:run_id ASC']);
    assert.deepEqual(order('runs', ['metrics.acc DESC']), [
      'metric:acc DESC',
      'attribute:start_time DESC',
      'attribute:run_id ASC',
    ]);
    assert.deepEqual(order('runs', ['start_time ASC']), ['attribute:start_time ASC', 'attribute:run_id ASC']);
    assert.deepEqual(order('runs', ['run_id DESC']), ['attribute:run_id DESC', 'attribute:start_time DESC']);
  });

  it('experiments: creation_time DESC, experiment_id ASC by default; experiment_id DESC breaks ties', () => {
    assert.deepEqual(order('experiments', []), ['attribute:creation_time DESC', 'attribute:experiment_id ASC']);
    assert.deepEqual(order('experiments', ['name']), ['attribute:name ASC', 'attribute:experiment_id DESC']);
    assert.deepEqual(order('experiments', ['experiment_id ASC']), ['attribute:experiment_id ASC']);
  });

  it('registered models: name ASC', () => {
    assert.deepEqual(order('registered_models', []), ['attribute:name ASC']);
    assert.deepEqual(order('registered_models', ['last_updated_timestamp DESC']), [
      'attribute:last_updated_timestamp DESC',
      'attribute:name ASC',
    ]);
  });

  it('model versions: name ASC, version DESC', () => {
    assert.deepEqual(order('model_versions', []), ['attribute:name ASC', 'attribute:version DESC']);
    assert.deepEqual(order('model_versions', ['version_number ASC']), ['attribute:version ASC', 'attribute:name ASC']);
    assert.deepEqual(order('model_versions', ['creation_timestamp DESC']), [
      'attribute:creation_timestamp DESC',
      'attribute:name ASC',
      'attribute:version DESC',
    ]);
  });
});
