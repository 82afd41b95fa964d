import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { KilnError } from '../../core/index.js';
import type { ModelRef } from '../types.js';
import { formatModelRef, parseModelRef } from './ref.js';

function refused(text: string, field: string, pattern: RegExp): void {
  assert.throws(
    () => parseModelRef(text, field),
    (e: unknown) => e instanceof KilnError && e.status === 400 && e.details?.field === field && pattern.test(e.message),
    text,
  );
}

describe('parseModelRef / formatModelRef', () => {
  it('reads versions, aliases and paths, and formats them back', () => {
    const cases: [string, ModelRef][] = [
      ['models:/churn/3', { kind: 'version', name: 'churn', version: 3 }],
      ['models:/churn model@champion', { kind: 'alias', name: 'churn model', alias: 'champion' }],
      ['./models/penguins.onnx', { kind: 'path', path: './models/penguins.onnx' }],
      ['/srv/models/pkg', { kind: 'path', path: '/srv/models/pkg' }],
    ];
    for (const [text, ref] of cases) {
      assert.deepEqual(parseModelRef(text), ref);
      assert.equal(formatModelRef(ref), text);
    }
    assert.deepEqual(parseModelRef('file:///srv/models/a%20b.onnx'), { kind: 'path', path: '/srv/models/a b.onnx' });
  });

  it('refuses what the registry would refuse, naming the field', () => {
    refused('', 'model', /non-empty/);
    refused('models:/churn/latest', 'targets[0].model', /version number or an alias/);
    refused('models:/churn/Production', 'model', /moves/);
    refused('models:/churn/0', 'model', /whole number ≥ 1/);
    refused('models:/churn/3.5', 'model', /whole number/);
    refused('models:/churn', 'model', /models:\/<name>\/<version>/);
    refused('models://churn/3', 'model', /form/);
    refused('models:/a/b/3', 'model', /'\/'/);
    refused('models:/churn@v2', 'model', /reserved/);
    refused('models:/churn@-x', 'model', /letters, digits/);
    refused('runs:/0123/model', 'model', /'runs:' references are not served/);
    refused('s3://bucket/model.onnx', 'model', /'s3:'/);
    refused('model\u0000.onnx', 'model', /control characters/);
  });
});
