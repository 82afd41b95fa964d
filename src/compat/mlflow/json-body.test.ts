import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { KilnError } from '../../core/index.js';
import { batchTooLarge, parseMlflowJson } from './json-body.js';

function malformed(err: unknown): true {
  assert.ok(err instanceof KilnError);
  assert.equal(err.code, 'MALFORMED_REQUEST');
  return true;
}

describe('parseMlflowJson', () => {
  it('should parse standard JSON as JSON.parse does', () => {
    assert.deepEqual(parseMlflowJson('{"a": [1, "x", null, true], "b": {"c": -2.5e3}}'), {
      a: [1, 'x', null, true],
      b: { c: -2500 },
    });
  });

  it("should read Python's bare NaN, Infinity and -Infinity as numbers", () => {
    const parsed = parseMlflowJson('{"v": [NaN, Infinity, -Infinity, 1], "w": NaN}') as { v: number[]; w: number };
    assert.ok(Number.isNaN(parsed.v[0]));
    assert.equal(parsed.v[1], Number.POSITIVE_INFINITY);
    assert.equal(parsed.v[2], Number.NEGATIVE_INFINITY);
    assert.equal(parsed.v[3], 1);
    assert.ok(Number.isNaN(parsed.w));
  });

  it('should leave the tokens alone inside strings, escaped quotes included', () => {
    const text = String.raw`{"s": "NaN \" Infinity", "t": "-Infinity\\", "v": NaN}`;
    const parsed = parseMlflowJson(text) as Record<string, unknown>;
    assert.equal(parsed.s, 'NaN " Infinity');
    assert.equal(parsed.t, '-Infinity\\');
    assert.ok(Number.isNaN(parsed.v));
  });

  it('should keep protobuf-style strings as strings for the field readers', () => {
    assert.deepEqual(parseMlflowJson('{"value": "NaN", "x": "Infinity"}'), { value: 'NaN', x: 'Infinity' });
  });

  it('should treat an empty body as {} and decode a double-encoded body', () => {
    assert.deepEqual(parseMlflowJson(''), {});
    assert.deepEqual(parseMlflowJson('  \n'), {});
    assert.deepEqual(parseMlflowJson(JSON.stringify(JSON.stringify({ a: 1 }))), { a: 1 });
  });

  it('should refuse what is not JSON, with or without the tokens', () => {
    for (const text of ['{"a": ', 'NaNa', '{"a": NaN,}', '{"a": nan}', '"not json inside"', '{"a": Infinit}']) {
      assert.throws(() => parseMlflowJson(text), malformed, text);
    }
  });

  it('should never turn a string spelling a placeholder into a number', () => {
    const parsed = parseMlflowJson('{"a": "\\u0000kiln:NaN"}') as { a: unknown };
    assert.equal(parsed.a, '\u0000kiln:NaN');
    assert.throws(() => parseMlflowJson('{"a": "\\u0000kiln:NaN", "b": NaN}'), malformed);
  });
});

describe('batchTooLarge', () => {
  it("should word the error as MLflow's server does", () => {
    const err = batchTooLarge(1_000_001);
    assert.equal(err.code, 'INVALID_PARAMETER_VALUE');
    assert.equal(
      err.message,
      'Batched logging API requests must be at most 1000000 bytes, got a request of size 1000001.',
    );
  });
});
