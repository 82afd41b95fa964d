import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { KilnError } from '../../core/index.js';
import { int64Value, metricValue, RequestFields } from './fields.js';

function invalid(pattern: RegExp) {
  return (err: unknown): true => {
    assert.ok(err instanceof KilnError);
    assert.equal(err.code, 'INVALID_PARAMETER_VALUE');
    assert.match(err.message, pattern);
    return true;
  };
}

describe('RequestFields', () => {
  it('should read query-string values: int64 as decimal strings, lists from one or repeated keys', () => {
    const f = new RequestFields({ max_results: '25000', order_by: 'name', experiment_ids: ['1', '2'], start: '-5' });
    assert.equal(f.integer('max_results'), 25000);
    assert.equal(f.integer('start'), -5);
    assert.deepEqual(f.list('order_by'), ['name']);
    assert.deepEqual(f.list('experiment_ids'), ['1', '2']);
    assert.equal(f.string('experiment_ids'), '1', 'a repeated key read as one value takes the first');
    assert.equal(f.integer('absent'), undefined);
  });

  it('should take run_id, else the legacy run_uuid, and name run_id when both are missing', () => {
    assert.equal(new RequestFields({ run_uuid: 'abc', run_id: '' }).runId(), 'abc');
    assert.equal(new RequestFields({ run_uuid: 'abc', run_id: 'def' }).runId(), 'def');
    assert.throws(() => new RequestFields({}).runId(), invalid(/^Missing value for required parameter 'run_id'/));
  });

  it('should read enums by name or proto number, and refuse others naming the choices', () => {
    const names = ['ACTIVE_ONLY', 'DELETED_ONLY', 'ALL'] as const;
    assert.equal(new RequestFields({ v: 2 }).enumName('v', names), 'DELETED_ONLY');
    assert.equal(new RequestFields({ v: '3' }).enumName('v', names), 'ALL');
    assert.equal(new RequestFields({ v: 'ACTIVE_ONLY' }).enumName('v', names), 'ACTIVE_ONLY');
    assert.throws(
      () => new RequestFields({ v: 4 }).enumName('v', names),
      invalid(/one of ACTIVE_ONLY, DELETED_ONLY, ALL/),
    );
    assert.throws(() => new RequestFields({ v: 'active_only' }).enumName('v', names), invalid(/'v'/));
  });

  it('should treat null as absent, keep empty strings for values, and call empty required strings missing', () => {
    const f = new RequestFields({ a: null, value: '', name: '' });
    assert.equal(f.string('a'), undefined);
    assert.equal(f.presentString('value'), '');
    assert.throws(() => f.requiredString('name'), invalid(/required parameter 'name'/));
    assert.throws(() => f.presentString('a'), invalid(/required parameter 'a'/));
  });

  it('should accept numeric ids from lenient clients but refuse mistyped strings, lists and booleans', () => {
    const f = new RequestFields({ experiment_id: 7, name: 5, tags: 'x', flag: 'yes', ok: 'true', n: 1.5 });
    assert.equal(f.requiredId('experiment_id'), '7');
    assert.throws(
      () => f.string('name'),
      invalid(/^Invalid value 5 for parameter 'name' supplied: must be a string\.$/),
    );
    assert.throws(() => f.messages('tags'), invalid(/'tags'.*a list/));
    assert.throws(() => f.boolean('flag'), invalid(/true or false/));
    assert.equal(f.boolean('ok'), true);
    assert.throws(() => f.integer('n'), invalid(/whole number/));
  });

  it('should see only own fields', () => {
    const f = new RequestFields(JSON.parse('{"__proto__": {"x": 1}}'));
    assert.equal(f.raw('constructor'), undefined);
    assert.equal(f.raw('toString'), undefined);
    assert.deepEqual(f.raw('__proto__'), { x: 1 });
  });
});

describe('wire value decoding', () => {
  it('should decode protobuf doubles and leave what is not one for the service to refuse', () => {
    assert.ok(Number.isNaN(metricValue('NaN') as number));
    assert.equal(metricValue('Infinity'), Number.POSITIVE_INFINITY);
    assert.equal(metricValue('-Infinity'), Number.NEGATIVE_INFINITY);
    assert.equal(metricValue('1.5e-3'), 0.0015);
    assert.equal(metricValue(2), 2);
    assert.equal(metricValue('inf'), 'inf');
    assert.equal(metricValue(''), '');
  });

  it('should decode int64 decimal strings only', () => {
    assert.equal(int64Value('1795784734945'), 1795784734945);
    assert.equal(int64Value('1.5'), '1.5');
    assert.equal(int64Value(3), 3);
  });
});
