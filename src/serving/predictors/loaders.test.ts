import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { KilnError } from '../../core/index.js';
import { exportOnnx, predictModel, type TrainedModel, writeModelPackage } from '../../learn/index.js';
import { openTrainingHarness, type TrainingHarness } from '../../training/testing/harness.js';
import type { LoadedModel } from '../types.js';
import { FileModelLoader } from './file-loader.js';
import { parseModelRef } from './ref.js';
import { RegistryModelLoader } from './registry-loader.js';
import { type PenguinModels, penguinModels } from './testing/penguins.js';

function totalBytes(files: ReadonlyMap<string, Uint8Array>): number {
  return [...files.values()].reduce((sum, b) => sum + b.length, 0);
}

/** The loaded model answers the held-out penguins as the Kiln model does (labels exactly, probabilities to 1e-6). */
async function answersLike(loaded: LoadedModel, model: TrainedModel, m: PenguinModels): Promise<void> {
  const expected = predictModel(model, m.test);
  const actual = await loaded.predictor.predict(m.test);
  assert.deepEqual(actual.prediction, expected.prediction);
  const p = actual.probabilities as Float64Array;
  const q = expected.probabilities as Float64Array;
  assert.equal(p.length, q.length);
  for (let i = 0; i < p.length; i++) assert.ok(Math.abs((p[i] as number) - (q[i] as number)) <= 1e-6, `index ${i}`);
}

async function rejectsWith(promise: Promise<unknown>, status: number, pattern: RegExp, file?: string): Promise<void> {
  await assert.rejects(promise, (e: unknown) => {
    assert.ok(e instanceof KilnError, String(e));
    assert.equal(e.status, status, e.message);
    assert.equal(e.details?.field, 'model', e.message);
    if (file !== undefined) assert.equal(e.details?.file, file, e.message);
    assert.match(e.message, pattern);
    return true;
  });
}

let m: PenguinModels;
before(async () => {
  m = await penguinModels();
});

describe('RegistryModelLoader (SQLite registry, tracking and file artifacts)', () => {
  let h: TrainingHarness;
  let loader: RegistryModelLoader;
  let runId: string;
  let artifactUri: string;
  const pkg = () => writeModelPackage(m.gbdt, { createdAt: '2026-01-01T00:00:00.000Z' });

  before(async () => {
    h = await openTrainingHarness();
    const run = await h.tracking.runs.create(h.ctx, { experimentId: '0' });
    runId = run.info.runId;
    artifactUri = run.info.artifactUri;
    for (const [name, bytes] of pkg()) await h.artifacts.put(h.ctx, runId, `model/${name}`, Buffer.from(bytes));
    await h.artifacts.put(h.ctx, runId, 'onnx/penguins.onnx', Buffer.from(exportOnnx(m.logistic)));
    const broken = pkg();
    const learner = Uint8Array.from(broken.get('learner.json') as Uint8Array);
    learner[20] = (learner[20] as number) ^ 1;
    broken.set('learner.json', learner);
    for (const [name, bytes] of broken) await h.artifacts.put(h.ctx, runId, `broken/${name}`, Buffer.from(bytes));

    await h.registry.createRegisteredModel(h.ctx, { name: 'penguins' });
    const sources = [
      `runs:/${runId}/model`, // 1: a Kiln package directory
      `runs:/${runId}/onnx/penguins.onnx`, // 2: one ONNX file
      `${artifactUri}/model`, // 3: a file: URL inside the artifact root
      'models:/penguins/2', // 4: another version
      `runs:/${runId}/broken`, // 5: a damaged package
      `runs:/${runId}/nothing`, // 6: no files
      `${h.artifacts.toProxyUri(artifactUri)}/onnx/penguins.onnx`, // 7: mlflow-artifacts:/ to one file
    ];
    for (const source of sources) await h.registry.createModelVersion(h.ctx, { name: 'penguins', source, runId });
    await h.registry.setAlias(h.ctx, 'penguins', 'champion', 1);
    loader = new RegistryModelLoader({ registry: h.registry, artifacts: h.artifacts, blobs: h.blobs });
  });
  after(() => h.close());

  it('loads models:/penguins/1, a Kiln package from run artifacts, answering as the model does', async () => {
    const loaded = await loader.load(h.ctx, parseModelRef('models:/penguins/1'));
    assert.equal(loaded.name, 'penguins');
    assert.equal(loaded.version, '1');
    assert.equal(loaded.flavour, 'kiln');
    assert.equal(loaded.sizeBytes, totalBytes(pkg()));
    await answersLike(loaded, m.gbdt, m);
  });

  it('resolves and loads models:/penguins@champion, and follows the alias when it moves', async () => {
    const ref = parseModelRef('models:/penguins@champion');
    assert.deepEqual(await loader.resolve(h.ctx, ref), { kind: 'version', name: 'penguins', version: 1 });
    const first = await loader.load(h.ctx, ref);
    assert.equal(first.version, '1');
    assert.equal(first.flavour, 'kiln');
    await h.registry.setAlias(h.ctx, 'penguins', 'champion', 2);
    try {
      assert.deepEqual(await loader.resolve(h.ctx, ref), { kind: 'version', name: 'penguins', version: 2 });
      const second = await loader.load(h.ctx, ref);
      assert.equal(second.version, '2');
      assert.equal(second.flavour, 'onnx');
      await answersLike(second, m.logistic, m);
      await second.predictor.close();
    } finally {
      await h.registry.setAlias(h.ctx, 'penguins', 'champion', 1);
    }
  });

  it('reads file: and mlflow-artifacts: sources inside the artifact root and follows models:/ sources', async () => {
    const three = await loader.load(h.ctx, parseModelRef('models:/penguins/3'));
    assert.equal(three.flavour, 'kiln');
    await answersLike(three, m.gbdt, m);
    const four = await loader.load(h.ctx, parseModelRef('models:/penguins/4'));
    assert.equal(four.version, '4');
    assert.equal(four.flavour, 'onnx');
    await answersLike(four, m.logistic, m);
    await four.predictor.close();
    const seven = await loader.load(h.ctx, parseModelRef('models:/penguins/7'));
    assert.equal(seven.flavour, 'onnx');
    await answersLike(seven, m.logistic, m);
    await seven.predictor.close();
  });

  it('answers 404 naming the field for unknown models, versions and aliases', async () => {
    await rejectsWith(loader.load(h.ctx, parseModelRef('models:/nope/1')), 404, /models:\/nope\/1/);
    await rejectsWith(loader.resolve(h.ctx, parseModelRef('models:/penguins/99')), 404, /models:\/penguins\/99/);
    await rejectsWith(loader.resolve(h.ctx, parseModelRef('models:/penguins@gone')), 404, /no alias 'gone'/);
    await rejectsWith(loader.load(h.ctx, parseModelRef('models:/penguins/6')), 404, /no model files/);
  });

  it('a damaged package is a 400 naming the file; a path is refused without a path loader', async () => {
    await rejectsWith(loader.load(h.ctx, parseModelRef('models:/penguins/5')), 400, /checksum/, 'learner.json');
    await rejectsWith(loader.load(h.ctx, parseModelRef('./model.onnx')), 400, /kiln serve/);
  });

  it('stops reading a model larger than its limit', async () => {
    const small = new RegistryModelLoader({
      registry: h.registry,
      artifacts: h.artifacts,
      blobs: h.blobs,
      maxBytes: 1000,
    });
    await rejectsWith(small.load(h.ctx, parseModelRef('models:/penguins/1')), 400, /exceed 1000 bytes/);
  });
});

describe('FileModelLoader', () => {
  let dir: string;
  const loader = new FileModelLoader();
  const ctx = { actor: 'tester', workspace: 'default', requestId: 'file-loader-test' };

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'kiln-file-loader-'));
    await mkdir(join(dir, 'penguin-pkg'));
    for (const [name, bytes] of writeModelPackage(m.gbdt)) await writeFile(join(dir, 'penguin-pkg', name), bytes);
    await writeFile(join(dir, 'species.onnx'), exportOnnx(m.logistic));
    await mkdir(join(dir, 'mlflow-model'));
    await writeFile(join(dir, 'mlflow-model', 'MLmodel'), 'flavors:\n  onnx: {}\n');
    await writeFile(join(dir, 'mlflow-model', 'model.onnx'), exportOnnx(m.logistic));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it('serves a package directory under its directory name, and the same through its manifest', async () => {
    const loaded = await loader.load(ctx, { kind: 'path', path: join(dir, 'penguin-pkg') });
    assert.equal(loaded.name, 'penguin-pkg');
    assert.equal(loaded.version, '1');
    assert.equal(loaded.flavour, 'kiln');
    await answersLike(loaded, m.gbdt, m);
    const viaManifest = await loader.load(ctx, parseModelRef(join(dir, 'penguin-pkg', 'kiln-model.json')));
    assert.equal(viaManifest.name, 'penguin-pkg');
    assert.equal(viaManifest.sizeBytes, loaded.sizeBytes);
  });

  it('serves an .onnx file under the file name or the given name, and an MLflow-style directory', async () => {
    const named = await loader.load(ctx, { kind: 'path', path: join(dir, 'species.onnx'), name: 'species-v2' });
    assert.equal(named.name, 'species-v2');
    await answersLike(named, m.logistic, m);
    await named.predictor.close();
    const plain = await loader.load(ctx, { kind: 'path', path: join(dir, 'species.onnx') });
    assert.equal(plain.name, 'species');
    await plain.predictor.close();
    const mlflow = await loader.load(ctx, { kind: 'path', path: join(dir, 'mlflow-model') });
    assert.equal(mlflow.flavour, 'onnx');
    await mlflow.predictor.close();
  });

  it('answers 404 for a missing path, 400 for registry references and for models over the size limit', async () => {
    await rejectsWith(loader.load(ctx, { kind: 'path', path: join(dir, 'missing.onnx') }), 404, /no file or directory/);
    await rejectsWith(loader.load(ctx, parseModelRef('models:/penguins/1')), 400, /registry/);
    const small = new FileModelLoader({ maxBytes: 1000 });
    await rejectsWith(small.load(ctx, { kind: 'path', path: join(dir, 'penguin-pkg') }), 400, /exceed 1000 bytes/);
    const few = new FileModelLoader({ maxFiles: 2 });
    await rejectsWith(few.load(ctx, { kind: 'path', path: join(dir, 'penguin-pkg') }), 400, /more than 2 files/);
  });
});
