import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { KilnError } from '../../core/index.js';
import { type SearchTarget, validateFilter } from './entities.js';
import { parseFilter } from './parser.js';

function keys(target: SearchTarget, filter: string): string[] {
  return validateFilter(target, parseFilter(filter)).map((c) => `${c.entity}:${c.key}`);
}

function rejects(target: SearchTarget, filter: string, fragment: string, position: number): void {
  let caught: unknown;
  try {
    validateFilter(target, parseFilter(filter));
  } catch (err) {
    caught = err;
  }
  assert.ok(caught instanceof KilnError, `expected ${target} to reject ${JSON.stringify(filter)}`);
  assert.equal(caught.code, 'INVALID_PARAMETER_VALUE');
  assert.ok(caught.message.includes(fragment), `${caught.message}\n  should include: ${fragment}`);
  assert.equal(caught.details?.field, 'filter');
  assert.equal(caught.details?.position, position, caught.message);
}

describe('validateFilter: runs', () => {
  it('accepts every entity and resolves attribute aliases to canonical names', () => {
    assert.deepEqual(
      keys(
        'runs',
        "metrics.acc > 1 AND params.p = 'a' AND tags.t = 'b' AND datasets.Digest = 'd' AND created > 5 AND `Run Name` = 'r' AND attr.Status = 'FAILED' AND end_time <= 9",
      ),
      [
        'metric:acc',
        'param:p',
        'tag:t',
        'dataset:digest',
        'attribute:start_time',
        'attribute:run_name',
        'attribute:status',
        'attribute:end_time',
      ],
    );
  });

  it('keeps values, operators and positions', () => {
    const [c] = validateFilter('runs', parseFilter("run_id IN ('ABC', 'def')"));
    assert.deepEqual(c, {
      entity: 'attribute',
      key: 'run_id',
      op: 'IN',
      value: ['ABC', 'def'],
      position: 1,
      operatorPosition: 8,
      valuePosition: 11,
    });
  });

  it('accepts lists for run ids and dataset fields', () => {
    assert.deepEqual(keys('runs', "run_id NOT IN ('a') AND datasets.context IN ('train', 'eval')"), [
      'attribute:run_id',
      'dataset:context',
    ]);
  });

  it('asks metrics for numbers', () => {
    rejects('runs', "metrics.acc > '0.9'", "filter: metrics.acc needs a number, got the string '0.9' at column 15", 15);
    rejects('runs', 'metrics.acc > "0.9"', "needs a number, got the string '0.9'", 15);
  });

  it('asks params and tags for quoted strings', () => {
    rejects(
      'runs',
      'params.lr = 0.1',
      "params.lr needs a quoted string, got the number 0.1 at column 13: write '0.1'",
      13,
    );
    rejects('runs', 'tags.v != 2', 'tags.v needs a quoted string, got the number 2', 11);
  });

  it('asks numeric attributes for numbers and string attributes for strings', () => {
    rejects('runs', "start_time > '5'", "attributes.start_time needs a number, got the string '5'", 14);
    rejects('runs', 'status = 3', 'attributes.status needs a quoted string, got the number 3', 10);
  });

  it('checks operators per type', () => {
    rejects(
      'runs',
      "metrics.acc LIKE '1'",
      "operator 'LIKE' does not apply to metrics.acc at column 13: use =, !=, >, >=, < or <=",
      13,
    );
    rejects(
      'runs',
      "params.p > 'a'",
      "operator '>' does not apply to params.p at column 10: use =, !=, LIKE or ILIKE",
      10,
    );
    rejects('runs', "tags.t IN ('a')", "operator 'IN' does not apply to tags.t", 8);
    rejects('runs', "metrics.acc IN ('1')", "operator 'IN' does not apply to metrics.acc", 13);
    rejects('runs', "start_time ILIKE 'a'", "operator 'ILIKE' does not apply to attributes.start_time", 12);
  });

  it('accepts lists only on run_id among attributes', () => {
    rejects(
      'runs',
      "status IN ('a')",
      'attributes.status does not take IN at column 8: IN lists work only on run_id',
      8,
    );
    rejects('runs', "run_name NOT IN ('a')", 'NOT IN lists work only on run_id', 10);
  });

  it('names unknown attributes and dataset fields with what is allowed', () => {
    rejects(
      'runs',
      "foo = 'x'",
      "unknown attribute 'foo' at column 1: runs can be filtered by run_id, run_name, status, user_id, artifact_uri, start_time or end_time",
      1,
    );
    rejects('runs', "experiment_id = '1'", "unknown attribute 'experiment_id'", 1);
    rejects('runs', 'metrics = 1', 'did you mean metrics.<key>?', 1);
    rejects(
      'runs',
      "datasets.size = 'x'",
      "unknown dataset field 'size' at column 1: use datasets.name, digest or context",
      1,
    );
  });

  it('refuses a LIKE pattern ending in a lone escape character', () => {
    rejects('runs', "params.p LIKE 'ab\\'", 'LIKE pattern ends with a lone escape character', 15);
    assert.deepEqual(keys('runs', "params.p LIKE 'ab\\\\'"), ['param:p']);
  });
});

describe('validateFilter: experiments', () => {
  it('accepts name, times and tags', () => {
    assert.deepEqual(
      keys('experiments', "name LIKE 'a%' AND attributes.creation_time > 1 AND last_update_time < 2 AND tags.k = 'v'"),
      ['attribute:name', 'attribute:creation_time', 'attribute:last_update_time', 'tag:k'],
    );
    assert.deepEqual(keys('experiments', "name IN ('a', 'b') AND name NOT IN ('c')"), [
      'attribute:name',
      'attribute:name',
    ]);
  });

  it('refuses metrics, params and datasets', () => {
    rejects(
      'experiments',
      'metrics.acc > 1',
      'experiments cannot be filtered by metrics (metrics.acc) at column 1: use attributes or tags',
      1,
    );
    rejects('experiments', "params.p = 'a'", 'cannot be filtered by params', 1);
    rejects('experiments', "datasets.name = 'a'", 'cannot be filtered by datasets', 1);
    rejects('experiments', "experiment_id = '1'", "unknown attribute 'experiment_id'", 1);
  });
});

describe('validateFilter: registered models', () => {
  it('accepts name and tags', () => {
    assert.deepEqual(keys('registered_models', "name ILIKE '%Churn%' AND tags.`owner team` != 'x'"), [
      'attribute:name',
      'tag:owner team',
    ]);
  });

  it('refuses order-only attributes, lists and other entities', () => {
    rejects(
      'registered_models',
      'creation_timestamp > 1',
      "unknown attribute 'creation_timestamp' at column 1: registered models can be filtered by name",
      1,
    );
    rejects(
      'registered_models',
      "name IN ('a')",
      'attributes.name does not take IN at column 6: no attribute takes IN lists',
      6,
    );
    rejects('registered_models', 'metrics.a > 1', 'registered models cannot be filtered by metrics', 1);
  });
});

describe('validateFilter: model versions', () => {
  it('maps version_number to version and source_path to source', () => {
    assert.deepEqual(
      keys(
        'model_versions',
        "name = 'm' AND version_number >= 2 AND source_path LIKE 's3://%' AND run_id IN ('r') AND tags.t = 'x'",
      ),
      ['attribute:name', 'attribute:version', 'attribute:source', 'attribute:run_id', 'tag:t'],
    );
  });

  it('refuses NOT IN, string versions and metrics', () => {
    rejects(
      'model_versions',
      "run_id NOT IN ('r')",
      'attributes.run_id does not take NOT IN at column 8: no attribute takes NOT IN lists',
      8,
    );
    rejects('model_versions', "version_number = '1'", "attributes.version needs a number, got the string '1'", 18);
    rejects('model_versions', "name IN ('a')", 'IN lists work only on run_id', 6);
    rejects('model_versions', 'metrics.a > 1', 'model versions cannot be filtered by metrics', 1);
  });
});
