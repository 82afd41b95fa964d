import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { KilnError } from '../../core/index.js';
import { exportOnnx, type Frame, predictModel, takeRows, trainModel, writeModelPackage } from '../../learn/index.js';
import { pythonSkip } from '../../learn/testing/python.js';
import { floatColumn, seattleFrame } from '../../learn/testing/vega.js';
import type { Predictor } from '../types.js';
import { detectFlavour, predictorFromFiles } from './flavour.js';
import { predictorFromTrainedModel } from './kiln.js';
import { type PenguinModels, penguinModels } from './testing/penguins.js';
import { type PythonReferences, pythonReferences } from './testing/python.js';
import { warmPredictor } from './warm.js';

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length);
  let max = 0;
  for (let i = 0; i < a.length; i++) max = Math.max(max, Math.abs((a[i] as number) - (b[i] as number)));
  return max;
}

async function rejects400(promise: Promise<unknown>, file: string | RegExp, pattern: RegExp): Promise<void> {
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(error instanceof KilnError, String(error));
    assert.equal(error.status, 400, error.message);
    assert.equal(error.details?.field, 'model', error.message);
    if (typeof file === 'string') assert.equal(error.details?.file, file, error.message);
    else assert.match(String(error.details?.file), file);
    assert.match(error.message, pattern);
    return true;
  });
}

/** The held-out frame with every third row's categories missing and every fourth row's numbers missing. */
function damaged(test: Frame): Frame {
  return {
    rows: test.rows,
    columns: test.columns.map((col) =>
      col.kind === 'categorical'
        ? { ...col, codes: col.codes.map((c, r) => (r % 3 === 0 ? -1 : c)) }
        : { ...col, values: col.values.map((v, r) => (r % 4 === 1 ? Number.NaN : v)) },
    ),
  };
}

let m: PenguinModels;
before(async () => {
  m = await penguinModels();
});

describe('Kiln package predictor', () => {
  it('answers exactly what predictModel answers, after a package round trip', async () => {
    for (const model of [m.gbdt, m.logistic, m.regression]) {
      const files = writeModelPackage(model);
      assert.equal(detectFlavour(files), 'kiln');
      const predictor = await predictorFromFiles(files);
      assert.equal(predictor.flavour, 'kiln');
      assert.equal(predictor.task, model.task);
      assert.deepEqual(predictor.classes, model.classes);
      assert.deepEqual(predictor.signature, model.signature);
      for (const frame of [m.test, damaged(m.test)]) {
        const expected = predictModel(model, frame);
        const actual = await predictor.predict(frame);
        assert.deepEqual(actual.prediction, expected.prediction);
        assert.deepEqual(actual.probabilities, expected.probabilities);
      }
      await warmPredictor(predictor);
      await predictor.close();
      await assert.rejects(predictor.predict(m.test), /unloaded/);
    }
  });

  it('takes input kinds from the fitted preprocessing and types from the signature', () => {
    const predictor = predictorFromTrainedModel(m.gbdt);
    const inputs = Object.fromEntries(predictor.inputs.map((i) => [i.name, i]));
    assert.deepEqual(inputs.Island, { name: 'Island', kind: 'categorical', type: 'categorical', nullable: true });
    assert.deepEqual(inputs['Body Mass (g)'], { name: 'Body Mass (g)', kind: 'float', type: 'float', nullable: true });
    assert.deepEqual(predictor.classes, ['Adelie', 'Chinstrap', 'Gentoo']);
    assert.equal(predictor.task, 'multiclass');
  });

  it('refuses a frame without a column the model reads, naming it', async () => {
    const predictor = predictorFromTrainedModel(m.gbdt);
    const frame: Frame = { rows: m.test.rows, columns: m.test.columns.filter((c) => c.name !== 'Island') };
    await assert.rejects(
      predictor.predict(frame),
      (e: unknown) => e instanceof KilnError && e.details?.field === 'columns.Island',
    );
  });
});

describe('ONNX predictor over a Kiln export', () => {
  it('answers like the Kiln model: probabilities within 1e-6 and the same labels, missing values included', async () => {
    for (const model of [m.gbdt, m.logistic]) {
      const predictor = await predictorFromFiles(new Map([['model.onnx', exportOnnx(model)]]));
      assert.equal(predictor.flavour, 'onnx');
      assert.equal(predictor.task, 'multiclass');
      assert.deepEqual(predictor.classes, model.classes);
      for (const frame of [m.test, damaged(m.test), takeRows(m.test, [5])]) {
        const expected = predictModel(model, frame);
        const actual = await predictor.predict(frame);
        assert.deepEqual(actual.prediction, expected.prediction);
        const diff = maxAbsDiff(actual.probabilities as Float64Array, expected.probabilities as Float64Array);
        assert.ok(diff <= 1e-6, `${model.learner.kind}: max abs diff ${diff}`);
      }
      const inFlight = predictor.predict(m.test);
      await predictor.close(); // waits for the run in flight, then releases the session
      assert.deepEqual((await inFlight).prediction, predictModel(model, m.test).prediction);
      await predictor.close();
      await assert.rejects(predictor.predict(m.test), /unloaded/);
    }
  });

  it('reports the export’s signature: column names, kinds and types, nullable like Kiln', async () => {
    const predictor = await predictorFromFiles(new Map([['penguins.onnx', exportOnnx(m.gbdt)]]));
    const kiln = predictorFromTrainedModel(m.gbdt);
    const byName = (p: Predictor) => [...p.inputs].sort((a, b) => a.name.localeCompare(b.name));
    assert.deepEqual(byName(predictor), byName(kiln));
    assert.deepEqual(predictor.signature, m.gbdt.signature);
    assert.deepEqual(
      predictor.signature.outputs.map((o) => o.name),
      ['prediction', 'probability(Adelie)', 'probability(Chinstrap)', 'probability(Gentoo)'],
    );
    await warmPredictor(predictor);
    await predictor.close();
  });

  it('serves a regression export and answers an empty frame without running the session', async () => {
    const files = new Map([['mass.bin', exportOnnx(m.regression)]]);
    assert.equal(detectFlavour(files), 'onnx', 'recognised by its bytes without the .onnx extension');
    const predictor = await predictorFromFiles(files);
    assert.equal(predictor.task, 'regression');
    assert.equal(predictor.classes, undefined);
    const expected = predictModel(m.regression, m.test).prediction as Float64Array;
    const actual = (await predictor.predict(m.test)).prediction as Float64Array;
    // The exported tree ensemble answers in float32: ~4,000 g within float32's relative precision.
    const relative = maxAbsDiff(actual, expected) / Math.max(...expected);
    assert.ok(relative <= 1e-6, `relative diff ${relative}`);
    const empty = await predictor.predict(takeRows(m.test, []));
    assert.equal(empty.prediction.length, 0);
    await predictor.close();
  });

  it('feeds a date column as a datetime input (kiln.signature), answering like the Kiln model', async () => {
    const frame = seattleFrame();
    const { model } = await trainModel(frame, {
      task: 'regression',
      target: 'temp_max',
      features: ['date', 'precipitation', 'wind', 'weather'],
      model: 'gbdt',
      params: { n_estimators: 10, max_depth: 3 },
    });
    const predictor = await predictorFromFiles(new Map([['weather.onnx', exportOnnx(model)]]));
    const date = predictor.inputs.find((i) => i.name === 'date');
    assert.deepEqual(date, { name: 'date', kind: 'datetime', type: 'datetime', nullable: true });
    const expected = predictModel(model, frame).prediction as Float64Array;
    const actual = (await predictor.predict(frame)).prediction as Float64Array;
    const diff = maxAbsDiff(actual, expected);
    assert.ok(diff <= 1e-4, `max abs diff ${diff} (°C, float32 tree outputs)`);
    await warmPredictor(predictor);
    await predictor.close();
  });
});

describe('damaged and unknown model files', () => {
  it('a package whose file does not match its checksum is a 400 naming the file', async () => {
    const files = writeModelPackage(m.gbdt);
    const learner = Uint8Array.from(files.get('learner.json') as Uint8Array);
    learner[learner.length - 10] = learner[learner.length - 10] === 0x31 ? 0x32 : 0x31;
    files.set('learner.json', learner);
    await rejects400(predictorFromFiles(files), 'learner.json', /checksum/);
    files.delete('learner.json');
    await rejects400(predictorFromFiles(files), /kiln-model\.json|learner\.json/, /lacks|learner\.json/);
  });

  it('a truncated ONNX file is a 400 naming it', async () => {
    const bytes = exportOnnx(m.logistic);
    await rejects400(
      predictorFromFiles(new Map([['model.onnx', bytes.subarray(0, Math.floor(bytes.length / 2))]])),
      'model.onnx',
      /not a valid ONNX model/,
    );
    await rejects400(
      predictorFromFiles(new Map([['model.onnx', new TextEncoder().encode('{"not": "onnx"}')]])),
      'model.onnx',
      /not a valid ONNX model/,
    );
  });

  it('a truncated JSON model is a 400 naming it', async () => {
    const text = '{"learner": {"gradient_booster": {"name": "gbtree", "model": {"trees": [';
    await rejects400(
      predictorFromFiles(new Map([['m.json', new TextEncoder().encode(text)]])),
      'm.json',
      /not valid JSON/,
    );
  });

  it('an unknown flavour is a 400 naming the file and listing the flavours; pickles are refused by name', async () => {
    const text = new TextEncoder().encode('just some notes');
    assert.throws(
      () => detectFlavour(new Map([['notes.txt', text]])),
      (e: unknown) =>
        e instanceof KilnError &&
        e.status === 400 &&
        e.details?.field === 'model' &&
        e.details.file === 'notes.txt' &&
        /kiln .*onnx .*xgboost/.test(e.message),
    );
    await rejects400(predictorFromFiles(new Map([['model.pkl', text]])), 'model.pkl', /pickle/);
    await rejects400(
      predictorFromFiles(new Map([['other.json', new TextEncoder().encode('{"a": 1}')]])),
      'other.json',
      /not a model Kiln can serve/,
    );
    await assert.rejects(
      predictorFromFiles(new Map(), 'targets[0].model'),
      (e: unknown) => e instanceof KilnError && e.status === 400 && e.details?.field === 'targets[0].model',
    );
    const nested = new Map([...writeModelPackage(m.gbdt)].map(([name, bytes]) => [`model/${name}`, bytes]));
    await rejects400(predictorFromFiles(nested), 'model/kiln-model.json', /sub-directory 'model'/);
    await assert.rejects(
      predictorFromFiles(
        new Map([
          ['a.onnx', exportOnnx(m.logistic)],
          ['b.onnx', exportOnnx(m.gbdt)],
        ]),
      ),
      /2 ONNX files/,
    );
  });
});

describe('XGBoost and generic ONNX models trained in Python', {
  skip: pythonSkip(['xgboost', 'sklearn', 'onnx']),
}, () => {
  let ref: PythonReferences;
  let test: Frame;
  before(() => {
    ref = pythonReferences(m.records);
    test = m.test;
  });

  const xgboost = (model: string) =>
    predictorFromFiles(
      new Map([
        ['model.json', new TextEncoder().encode(model)],
        ['MLmodel', new Uint8Array(8)],
      ]),
    );

  it('a multiclass XGBoost model answers what predict_proba answers (1e-5), labels by argmax', async () => {
    const predictor = await xgboost(ref.xgboost.multiclass.model);
    assert.equal(predictor.flavour, 'xgboost');
    assert.equal(predictor.task, 'multiclass');
    assert.deepEqual(predictor.classes, ['0', '1', '2']);
    assert.deepEqual(
      predictor.inputs.map((i) => i.name),
      ['Beak Length (mm)', 'Beak Depth (mm)', 'Flipper Length (mm)', 'Body Mass (g)'],
    );
    const out = await predictor.predict(test);
    const expected = ref.xgboost.multiclass.proba;
    const diff = maxAbsDiff(out.probabilities as Float64Array, expected.flat());
    assert.ok(diff <= 1e-5, `max abs diff ${diff}`);
    const labels = expected.map((row) => String(row.indexOf(Math.max(...row))));
    assert.deepEqual(out.prediction, labels);
    await warmPredictor(predictor);
  });

  it('a binary XGBoost model has classes 0 and 1 with probabilities [1 - p, p]', async () => {
    const predictor = await xgboost(ref.xgboost.binary.model);
    assert.equal(predictor.task, 'binary');
    assert.deepEqual(predictor.classes, ['0', '1']);
    const out = await predictor.predict(test);
    const diff = maxAbsDiff(out.probabilities as Float64Array, ref.xgboost.binary.proba.flat());
    assert.ok(diff <= 1e-5, `max abs diff ${diff}`);
    assert.deepEqual(
      out.prediction,
      ref.xgboost.binary.proba.map((row) => ((row[1] as number) > 0.5 ? '1' : '0')),
    );
  });

  it('an XGBoost regressor answers what predict answers', async () => {
    const predictor = await xgboost(ref.xgboost.regression.model);
    assert.equal(predictor.task, 'regression');
    assert.equal(predictor.inputs.length, 3);
    const out = (await predictor.predict(test)).prediction as Float64Array;
    const diff = maxAbsDiff(out, ref.xgboost.regression.pred);
    assert.ok(diff <= 1e-3, `max abs diff ${diff}`);
  });

  it('a generic ONNX classifier over one [N, 4] float tensor: names from metadata, labels from the graph', async () => {
    const files = new Map([['clf.onnx', new Uint8Array(Buffer.from(ref.onnx.classifier.model, 'base64'))]]);
    const predictor = await predictorFromFiles(files);
    assert.equal(predictor.task, 'multiclass');
    assert.deepEqual(predictor.classes, ref.species);
    assert.deepEqual(
      predictor.inputs.map((i) => [i.name, i.kind, i.nullable]),
      ['Beak Length (mm)', 'Beak Depth (mm)', 'Flipper Length (mm)', 'Body Mass (g)'].map((n) => [n, 'float', false]),
    );
    const complete = takeRows(
      test,
      ref.completeTest.map((r) => (r - 3) / 4),
    );
    const out = await predictor.predict(complete);
    const diff = maxAbsDiff(out.probabilities as Float64Array, ref.onnx.classifier.proba.flat());
    assert.ok(diff <= 1e-4, `max abs diff ${diff} (float32 graph vs sklearn's doubles)`);
    assert.deepEqual(out.prediction, ref.onnx.classifier.labels);
    await warmPredictor(predictor);
    await predictor.close();
  });

  it('a generic ONNX regressor without feature names reads <input>_0…', async () => {
    const files = new Map([['mass.onnx', new Uint8Array(Buffer.from(ref.onnx.regressor.model, 'base64'))]]);
    const predictor = await predictorFromFiles(files);
    assert.equal(predictor.task, 'regression');
    assert.deepEqual(
      predictor.inputs.map((i) => i.name),
      ['input_0', 'input_1', 'input_2'],
    );
    const complete = takeRows(
      test,
      ref.completeTest.map((r) => (r - 3) / 4),
    );
    const frame: Frame = {
      rows: complete.rows,
      columns: ['Beak Length (mm)', 'Beak Depth (mm)', 'Flipper Length (mm)'].map((name, j) => {
        const col = complete.columns.find((c) => c.name === name);
        assert.ok(col?.kind === 'float', name);
        return floatColumn(`input_${j}`, Array.from(col.values));
      }),
    };
    const out = (await predictor.predict(frame)).prediction as Float64Array;
    const diff = maxAbsDiff(out, ref.onnx.regressor.pred);
    assert.ok(diff <= 1e-2, `max abs diff ${diff} (float32 graph vs sklearn's doubles)`);
    await predictor.close();
  });

  it('refuses an ONNX model whose weights live in an external file (a path it would make the server read)', async () => {
    const files = new Map([['ext.onnx', new Uint8Array(Buffer.from(ref.onnx.external, 'base64'))]]);
    await rejects400(predictorFromFiles(files), 'ext.onnx', /external data/);
  });
});
