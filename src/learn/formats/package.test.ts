import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { before, describe, it } from 'node:test';
import { parse as parseYaml } from 'yaml';
import { KilnError } from '../../core/index.js';
import type { Frame } from '../frame.js';
import { checkFrameAgainstSignature, predictModel } from '../model.js';
import { assertInvalid } from '../testing/assert.js';
import { datePartsCase, type TrainedCase, trainedCases } from './onnx/testing/models.js';
import { MANIFEST_FILE, readModelPackage, writeModelPackage } from './package.js';

// biome-ignore lint/suspicious/noExplicitAny: the tests reach into parsed package JSON to damage it.
type Json = any;

const decode = (bytes: Uint8Array): Json => JSON.parse(new TextDecoder().decode(bytes)) as Json;
const encode = (value: unknown): Uint8Array => new TextEncoder().encode(JSON.stringify(value));

/** Rewrites one JSON file of a package and, unless `keepChecksum`, fixes its manifest entry so only content checks can catch it. */
function tamper(
  files: Map<string, Uint8Array>,
  name: string,
  mutate: (json: Json) => void,
  keepChecksum = false,
): Map<string, Uint8Array> {
  const out = new Map(files);
  const json = decode(files.get(name) as Uint8Array);
  mutate(json);
  const bytes = encode(json);
  out.set(name, bytes);
  if (!keepChecksum && name !== MANIFEST_FILE) {
    const manifest = decode(files.get(MANIFEST_FILE) as Uint8Array);
    const entry = (manifest.files as Json[]).find((f) => f.path === name) as Json;
    entry.sha256 = createHash('sha256').update(bytes).digest('hex');
    entry.size = bytes.length;
    out.set(MANIFEST_FILE, encode(manifest));
  }
  return out;
}

let cases: TrainedCase[] = [];
before(async () => {
  cases = [...(await trainedCases()), await datePartsCase()];
});

/** The index of the first tree with a split (the damage tests need one); fails when every tree is a lone leaf. */
function splitTree(learner: Json): number {
  const t = (learner.trees as Json[]).findIndex((tree) => (tree.left as number[]).some((l) => l !== -1));
  assert.ok(t >= 0, 'the fixture model has a tree with a split');
  return t;
}

function byName(part: string): TrainedCase {
  return cases.find((c) => c.name.includes(part)) as TrainedCase;
}

describe('Kiln model package', () => {
  it('round-trips every learner and predicts identically on held-out real data', () => {
    assert.equal(cases.length, 9);
    for (const { name, model, test } of cases) {
      const files = writeModelPackage(model, { metrics: { auc: 0.9, undefined_metric: Number.NaN } });
      const loaded = readModelPackage(files);
      const before = predictModel(model, test);
      const after = predictModel(loaded, test);
      assert.deepEqual(after.prediction, before.prediction, name);
      assert.deepEqual(after.probabilities, before.probabilities, name);
      assert.equal(loaded.manifest.learner.kind, model.learner.kind);
      assert.ok(Number.isNaN(loaded.manifest.metrics.undefined_metric as number), 'NaN metric survives as "NaN"');
      // Writing the loaded model again gives the same bytes: nothing is lost or reordered.
      const again = writeModelPackage(loaded, {
        createdAt: loaded.manifest.createdAt,
        metrics: loaded.manifest.metrics,
      });
      for (const file of ['learner.json', 'preprocessing.json']) {
        assert.deepEqual(
          decode(again.get(file) as Uint8Array),
          decode(files.get(file) as Uint8Array),
          `${name}: ${file}`,
        );
      }
    }
  });

  it('writes a manifest with checksums, lineage and an MLflow-style MLmodel', () => {
    const { model } = byName('logistic multiclass');
    const digest = 'sha256:0123';
    const files = writeModelPackage(model, {
      trainingData: [{ dataset: 'penguins', version: 2, digest }],
      createdAt: '2026-11-27T10:00:00.000Z',
      kilnVersion: '9.9.9',
    });
    assert.deepEqual([...files.keys()].sort(), ['MLmodel', 'kiln-model.json', 'learner.json', 'preprocessing.json']);
    const manifest = decode(files.get(MANIFEST_FILE) as Uint8Array);
    assert.equal(manifest.format, 'kiln-model');
    assert.equal(manifest.formatVersion, 1);
    assert.deepEqual(manifest.classes, ['Adelie', 'Chinstrap', 'Gentoo']);
    assert.deepEqual(manifest.trainingData, [{ dataset: 'penguins', version: 2, digest }]);
    for (const f of manifest.files as Json[]) {
      const bytes = files.get(f.path) as Uint8Array;
      assert.equal(f.sha256, createHash('sha256').update(bytes).digest('hex'));
      assert.equal(f.size, bytes.length);
    }
    const learner = decode(files.get('learner.json') as Uint8Array);
    assert.ok(Array.isArray(learner.coef), 'typed arrays are stored as JSON arrays');
    const mlmodel = parseYaml(new TextDecoder().decode(files.get('MLmodel'))) as Json;
    assert.equal(mlmodel.flavors.kiln.learner, 'logistic-regression');
    assert.equal(mlmodel.flavors.kiln.kiln_version, '9.9.9');
    assert.equal(JSON.parse(mlmodel.signature.inputs)[0].type, 'string');
  });

  it('stores non-finite numbers explicitly and reads them back', () => {
    const { model } = byName('gbdt regression');
    const learner = structuredClone(model.learner) as unknown as Json;
    const t = splitTree(learner);
    const inner = (learner.trees[t].left as number[]).findIndex((l) => l !== -1);
    learner.trees[t].threshold[inner] = Number.POSITIVE_INFINITY;
    const files = writeModelPackage({ ...model, learner: learner as never });
    const stored = decode(files.get('learner.json') as Uint8Array);
    assert.equal(stored.trees[t].threshold[inner], 'Infinity');
    const loaded = readModelPackage(files).learner as unknown as Json;
    assert.equal(loaded.trees[t].threshold[inner], Number.POSITIVE_INFINITY);
  });
});

describe('Kiln model package: damaged and malicious packages are refused', () => {
  const gbdtFiles = () => writeModelPackage(byName('gbdt multiclass').model);
  const logisticFiles = () => writeModelPackage(byName('logistic binary').model);

  it('refuses a missing manifest, unknown format versions and bad JSON', () => {
    const files = gbdtFiles();
    files.delete(MANIFEST_FILE);
    assertInvalid(() => readModelPackage(files), 'kiln-model.json', /not a Kiln model package/);
    assertInvalid(
      () =>
        readModelPackage(
          tamper(gbdtFiles(), MANIFEST_FILE, (m) => {
            m.formatVersion = 2;
          }),
        ),
      'kiln-model.json:formatVersion',
      /reads version 1/,
    );
    const garbled = gbdtFiles();
    garbled.set(MANIFEST_FILE, new TextEncoder().encode('{"format": "kiln-model",'));
    assertInvalid(() => readModelPackage(garbled), 'kiln-model.json', /JSON/);
  });

  it('refuses a file whose checksum does not match, or a listed file that is absent', () => {
    const changed = tamper(
      gbdtFiles(),
      'learner.json',
      (l) => {
        l.baseMargin[0] += 1;
      },
      true,
    );
    assertInvalid(() => readModelPackage(changed), 'learner.json', /checksum/);
    const missing = gbdtFiles();
    missing.delete('preprocessing.json');
    assertInvalid(() => readModelPackage(missing), 'kiln-model.json:files[0].path', /lacks/);
  });

  it('refuses wrong array lengths, unknown fields and code-like values', () => {
    assertInvalid(
      () => readModelPackage(tamper(logisticFiles(), 'learner.json', (l) => void l.coef.pop())),
      'learner.json:coef',
      /entries, expected/,
    );
    assertInvalid(
      () =>
        readModelPackage(
          tamper(logisticFiles(), 'learner.json', (l) => {
            l.predict = 'function () { return 1 }';
          }),
        ),
      'learner.json:predict',
      /not a known field/,
    );
    assertInvalid(
      () =>
        readModelPackage(
          tamper(logisticFiles(), 'learner.json', (l) => {
            l.kind = 'constructor';
          }),
        ),
      'learner.json:kind',
    );
    assertInvalid(
      () =>
        readModelPackage(
          tamper(logisticFiles(), 'learner.json', (l) => {
            l.intercept[0] = '1e3; process.exit()';
          }),
        ),
      'learner.json:intercept[0]',
    );
    const forestFiles = writeModelPackage(byName('forest classification').model);
    assertInvalid(
      () => readModelPackage(tamper(forestFiles, 'learner.json', (l) => void l.trees[0].value.pop())),
      'learner.json:trees[0].value',
      /entries, expected/,
    );
  });

  it('refuses out-of-range node indices, cycles, unreachable nodes and bad category codes in trees', () => {
    const firstInner = (t: Json) => (t.left as number[]).findIndex((l) => l !== -1);
    assertInvalid(
      () =>
        readModelPackage(
          tamper(gbdtFiles(), 'learner.json', (l) => {
            const t = l.trees[splitTree(l)];
            t.left[firstInner(t)] = t.left.length;
          }),
        ),
      `learner.json:trees[${splitTree(byName('gbdt multiclass').model.learner)}].left[0]`,
      /≤/,
    );
    let child = -1;
    const s = splitTree(byName('gbdt multiclass').model.learner);
    const cyclic = tamper(gbdtFiles(), 'learner.json', (l) => {
      const t = l.trees[s];
      child = t.left[firstInner(t)];
      // Turn the left child into an inner node whose children point back at the root.
      t.left[child] = 0;
      t.right[child] = 0;
      t.feature[child] = 0;
    });
    assertInvalid(() => readModelPackage(cyclic), `learner.json:trees[${s}].left[${child}]`, /reached twice/);
    assertInvalid(
      () =>
        readModelPackage(
          tamper(gbdtFiles(), 'learner.json', (l) => {
            const t = l.trees[0];
            for (const key of ['feature', 'threshold', 'defaultLeft', 'left', 'right', 'value', 'gain', 'cover']) {
              t[key].push(key === 'left' || key === 'right' || key === 'feature' ? -1 : 0);
            }
            t.categories?.push(null);
          }),
        ),
      'learner.json:trees[0]',
      /not reachable/,
    );
    let where = '';
    const hugeCode = tamper(gbdtFiles(), 'learner.json', (l) => {
      const i = (l.trees as Json[]).findIndex((tree) => tree.categories?.some((set: unknown) => set !== null));
      const at = l.trees[i].categories.findIndex((set: unknown) => set !== null);
      l.trees[i].categories[at] = [2 ** 40];
      where = `learner.json:trees[${i}].categories[${at}][0]`;
    });
    assert.notEqual(where, '', 'the fixture has a native categorical split');
    assertInvalid(() => readModelPackage(hugeCode), where, /≤ 1048575/);
  });

  it('refuses a learner that does not match the preprocessing, task or classes', () => {
    assertInvalid(
      () =>
        readModelPackage(
          tamper(logisticFiles(), 'learner.json', (l) => {
            l.features[0] = 'other';
          }),
        ),
      'learner.json:features[0]',
      /preprocessing/,
    );
    assertInvalid(
      () => readModelPackage(tamper(gbdtFiles(), MANIFEST_FILE, (m) => void m.classes.pop())),
      'learner.json:outputs',
    );
    assertInvalid(
      () =>
        readModelPackage(
          tamper(gbdtFiles(), MANIFEST_FILE, (m) => {
            m.task = 'regression';
          }),
        ),
      'kiln-model.json:classes',
    );
    assertInvalid(
      () =>
        readModelPackage(
          tamper(logisticFiles(), 'preprocessing.json', (p) => void p.columns[0].steps[1].categories.push('Atlantis')),
        ),
      'preprocessing.json:columns[0].outputs',
      /entries/,
    );
    assertInvalid(
      () =>
        readModelPackage(
          tamper(logisticFiles(), 'preprocessing.json', (p) => {
            p.columns[3].steps[1].scale[0] = 0;
          }),
        ),
      'preprocessing.json:columns[3].steps[1].scale[0]',
    );
    assertInvalid(
      () => readModelPackage(tamper(logisticFiles(), MANIFEST_FILE, (m) => void m.signature.inputs.shift())),
      'kiln-model.json:signature.inputs',
      /Island/,
    );
  });
});

describe('predictModel input checks', () => {
  it('names a missing column or a column of the wrong kind', () => {
    const { model, test } = byName('gbdt binary');
    const without: Frame = { rows: test.rows, columns: test.columns.filter((c) => c.name !== 'Island') };
    assertInvalid(() => predictModel(model, without), 'columns.Island', /missing/);
    const wrongKind: Frame = {
      rows: test.rows,
      columns: test.columns.map((c) =>
        c.name === 'Body Mass (g)' ? { kind: 'datetime', name: c.name, values: new Float64Array(test.rows) } : c,
      ),
    };
    assertInvalid(() => checkFrameAgainstSignature(model.signature, wrongKind), 'columns.Body Mass (g)', /datetime/);
    assert.throws(() => predictModel(model, wrongKind), KilnError);
  });

  it('maps class indices to labels and returns rows × classes probabilities', () => {
    const { model, test } = byName('logistic multiclass');
    const { prediction, probabilities } = predictModel(model, test);
    assert.equal(prediction.length, test.rows);
    assert.equal(probabilities?.length, test.rows * 3);
    const species = test.columns.find((c) => c.name === 'Species');
    assert.ok(species?.kind === 'categorical');
    let correct = 0;
    for (let r = 0; r < test.rows; r++) if (prediction[r] === species.dictionary[species.codes[r] as number]) correct++;
    assert.ok(correct / test.rows > 0.95, `held-out accuracy ${correct / test.rows}`);
  });
});
