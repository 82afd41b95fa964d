import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import * as ort from 'onnxruntime-node';
import type { Frame } from '../../frame.js';
import { predictModel, type TrainedModel } from '../../model.js';
import { assertInvalid } from '../../testing/assert.js';
import { pythonSkip, REFERENCE_PYTHON } from '../../testing/python.js';
import { exportOnnx } from './export.js';
import { MISSING_STRING } from './preprocess.js';
import { decodeModel } from './proto.js';
import { datePartsCase, type TrainedCase, trainedCases } from './testing/models.js';

/** The exported model's inputs for a frame: one [N, 1] tensor per column the preprocessing reads. */
function feeds(model: TrainedModel, frame: Frame): Record<string, ort.Tensor> {
  const out: Record<string, ort.Tensor> = {};
  for (const { name } of model.preprocessing.columns) {
    const col = frame.columns.find((c) => c.name === name);
    if (col === undefined) throw new Error(`no column ${name}`);
    out[name] =
      col.kind === 'categorical'
        ? new ort.Tensor(
            'string',
            Array.from(col.codes, (c) => (c < 0 ? MISSING_STRING : (col.dictionary[c] as string))),
            [frame.rows, 1],
          )
        : new ort.Tensor('float64', Float64Array.from(col.values), [frame.rows, 1]);
  }
  return out;
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length);
  let max = 0;
  for (let i = 0; i < a.length; i++) max = Math.max(max, Math.abs((a[i] as number) - (b[i] as number)));
  return max;
}

async function compare({ name, model, test }: TrainedCase): Promise<number> {
  const session = await ort.InferenceSession.create(exportOnnx(model), { logSeverityLevel: 3 });
  const result = await session.run(feeds(model, test));
  const expected = predictModel(model, test);
  const prediction = result.prediction as ort.Tensor;
  assert.deepEqual(prediction.dims, [test.rows], name);
  if (model.task === 'regression') {
    const diff = maxAbsDiff(prediction.data as Float64Array, expected.prediction as Float64Array);
    assert.ok(diff <= 1e-5, `${name}: max abs diff ${diff}`);
    return diff;
  }
  const probabilities = result.probabilities as ort.Tensor;
  assert.deepEqual(probabilities.dims, [test.rows, model.classes?.length], name);
  const diff = maxAbsDiff(probabilities.data as Float64Array, expected.probabilities as Float64Array);
  assert.ok(diff <= 1e-5, `${name}: max abs diff ${diff}`);
  assert.deepEqual(Array.from(prediction.data as string[]), expected.prediction, `${name}: labels`);
  return diff;
}

let cases: TrainedCase[] = [];
before(async () => {
  cases = [...(await trainedCases()), await datePartsCase()];
});

describe('ONNX export run in onnxruntime-node equals Kiln on held-out real data', () => {
  it('covers every learner and task (max abs diff ≤ 1e-5, identical labels)', async () => {
    assert.equal(cases.length, 9);
    for (const c of cases) await compare(c);
  });

  it('handles missing values, unknown categories and one-row requests like Kiln', async () => {
    for (const c of cases) {
      const rows = Math.min(c.test.rows, 40);
      const damaged: Frame = {
        rows,
        columns: c.test.columns.map((col) => {
          if (col.kind === 'categorical') {
            // Every third row missing, every fifth an unseen category.
            const dictionary = [...col.dictionary, 'never seen'];
            const codes = Int32Array.from({ length: rows }, (_, r) =>
              r % 3 === 0 ? -1 : r % 5 === 0 ? dictionary.length - 1 : (col.codes[r] as number),
            );
            return { ...col, codes, dictionary };
          }
          return {
            ...col,
            values: Float64Array.from({ length: rows }, (_, r) =>
              r % 4 === 1 ? Number.NaN : (col.values[r] as number),
            ),
          };
        }),
      };
      await compare({ ...c, name: `${c.name} (damaged)`, test: damaged });
      const one: Frame = {
        rows: 1,
        columns: c.test.columns.map((col) =>
          col.kind === 'categorical'
            ? { ...col, codes: col.codes.slice(0, 1) }
            : { ...col, values: col.values.slice(0, 1) },
        ),
      };
      await compare({ ...c, name: `${c.name} (one row)`, test: one });
    }
  });

  it('writes native categorical splits as BRANCH_EQ chains and numeric splits as BRANCH_LT', () => {
    const { model } = cases.find((c) => c.name.includes('native categorical')) as TrainedCase;
    const decoded = decodeModel(exportOnnx(model)) as {
      graph: { node: { op_type: string; attribute: { name: string; strings?: string[] }[] }[] };
      opset_import: { domain?: string; version: string }[];
    };
    const ensemble = decoded.graph.node.find((n) => n.op_type === 'TreeEnsembleClassifier');
    const modes = ensemble?.attribute
      .find((a) => a.name === 'nodes_modes')
      ?.strings?.map((s) => Buffer.from(s, 'base64').toString());
    assert.ok(modes?.includes('BRANCH_EQ') && modes.includes('BRANCH_LT') && modes.includes('LEAF'));
    assert.deepEqual(
      decoded.opset_import.map((o) => [o.domain ?? '', Number(o.version)]),
      [
        ['', 17],
        ['ai.onnx.ml', 3],
      ],
    );
  });

  it('refuses what it cannot express, naming the step', () => {
    const { model } = cases.find((c) => c.name.includes('logistic binary')) as TrainedCase;
    const withEmpty = structuredClone(model);
    const island = withEmpty.preprocessing.columns[0];
    assert.equal(island?.name, 'Island');
    island.steps[0] = { kind: 'impute', fill: [''], indicator: [false] };
    assertInvalid(() => exportOnnx(withEmpty), 'preprocessing.columns[0].steps[0]', /empty string/);
    const named = structuredClone(model);
    (named.preprocessing.columns[0] as { name: string }).name = 'prediction';
    assertInvalid(() => exportOnnx(named), 'columns.prediction', /ONNX output/);
  });
});

describe('ONNX export passes onnx.checker', { skip: pythonSkip(['onnx']) }, () => {
  it('check_model(full_check=True) accepts every exported model', () => {
    const dir = mkdtempSync(join(tmpdir(), 'kiln-onnx-'));
    try {
      const paths = cases.map((c, i) => {
        const path = join(dir, `model${i}.onnx`);
        writeFileSync(path, exportOnnx(c.model));
        return path;
      });
      const script =
        'import onnx, sys\nfor p in sys.argv[1:]:\n    onnx.checker.check_model(onnx.load(p), full_check=True)\nprint("ok")';
      const run = spawnSync(REFERENCE_PYTHON, ['-c', script, ...paths], { encoding: 'utf8' });
      assert.equal(run.status, 0, run.stderr);
      assert.equal(run.stdout.trim(), 'ok');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
