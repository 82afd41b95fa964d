import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import protobuf from 'protobufjs';
import { ONNX_ML_SCHEMA } from './schema.js';

const PROTO = new URL('./onnx-ml.proto', import.meta.url);

describe('embedded ONNX schema', () => {
  it('is exactly the protobufjs descriptor of the vendored onnx-ml.proto', () => {
    const text = readFileSync(PROTO, 'utf8');
    assert.match(text, /SPDX-License-Identifier: Apache-2.0/);
    const derived = protobuf.parse(text, { keepCase: true }).root.toJSON();
    assert.deepEqual(
      ONNX_ML_SCHEMA,
      JSON.parse(JSON.stringify(derived)),
      'schema.ts is stale: regenerate it from onnx-ml.proto with protobuf.parse(text, { keepCase: true }).root.toJSON()',
    );
  });

  it('describes the ModelProto fields the exporter writes', () => {
    const model = protobuf.Root.fromJSON(ONNX_ML_SCHEMA).lookupType('onnx.ModelProto');
    for (const field of ['ir_version', 'opset_import', 'producer_name', 'graph', 'metadata_props']) {
      assert.ok(model.fields[field], field);
    }
  });
});
