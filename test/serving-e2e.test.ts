/**
 * Issue 6, "Done when", end to end through the real `kiln server`: models are trained (by the
 * training API, in process, and by XGBoost in Python), logged as run artifacts, registered, deployed
 * through `/api/v1/deployments` and queried through the three prediction protocols under
 * `/serve/<deployment>/…`; canary weights, shadow reports, alias-driven hot swap under load,
 * promote / rollback and batch scoring are checked through the same HTTP surface.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { silentLogger } from '../src/core/index.js';
import { exportOnnx, readModelPackage } from '../src/learn/index.js';
import { pythonSkip } from '../src/learn/testing/python.js';
import { VEGA_DATA } from '../src/learn/testing/vega.js';
import { startModelServer } from '../src/server/index.js';
import { testConfig } from '../src/server/testing/app.js';
import { type PythonReferences, pythonReferences } from '../src/serving/predictors/testing/python.js';
import {
  allCompleteRows,
  heldOutCompleteRows,
  type MeasurementRow,
  PENGUIN_MEASUREMENTS,
  packageFiles,
  servingModels,
} from './support/serving-models.js';
import {
  answersThroughEveryProtocol,
  assertProtocolsAgree,
  maxAbsDiff,
  type ProtocolAnswers,
  type Send,
} from './support/serving-protocols.js';
import { ServingServer, type Wire } from './support/serving-server.js';

const PYTHON_SKIP = pythonSkip(['xgboost', 'sklearn', 'onnx']);

let s: ServingServer;
/** Through `app.inject`, for the protocol helpers. */
let inject: Send;

/** The run holding the in-process models' packages: `gbdt/`, `logistic/`, `full/`. */
let modelsRun: string;

before(async () => {
  s = await ServingServer.start();
  inject = async (method, path, payload, headers = {}) => {
    const res = await s.call(method, path, payload, headers);
    return { status: res.status, text: res.text };
  };
  await s.ingest('penguins', `${VEGA_DATA}penguins.json`);
  const { gbdt, logistic, full } = await servingModels();
  modelsRun = await s.createRun('serving-e2e-models');
  await s.uploadAll(modelsRun, 'gbdt', packageFiles(gbdt));
  await s.uploadAll(modelsRun, 'logistic', packageFiles(logistic));
  await s.uploadAll(modelsRun, 'full', packageFiles(full));
  // models:/penguins/1 is the GBDT, /2 the logistic regression; penguins-full/1 needs Island and Sex too.
  assert.equal(await s.registerVersion('penguins', `runs:/${modelsRun}/gbdt`, modelsRun), 1);
  assert.equal(await s.registerVersion('penguins', `runs:/${modelsRun}/logistic`, modelsRun), 2);
  assert.equal(await s.registerVersion('penguins-full', `runs:/${modelsRun}/full`, modelsRun), 1);
});
after(() => s?.close());

let trained: Promise<{ runId: string; version: number }> | undefined;

/** A Kiln GBDT on the four measurements, trained by the training API and registered as penguins-gbdt. */
function apiTrainedGbdt(): Promise<{ runId: string; version: number }> {
  trained ??= (async () => {
    const submitted = await s.ok(
      'POST',
      '/api/v1/training-jobs',
      {
        data: 'penguins@1',
        target: 'Species',
        task: 'classification',
        model: 'gbdt',
        features: PENGUIN_MEASUREMENTS,
        params: { n_estimators: 30, max_depth: 3, seed: 7 },
        register: 'penguins-gbdt',
      },
      202,
    );
    const job = await s.until('the training job', async () => {
      const { job } = await s.ok('GET', `/api/v1/training-jobs/${submitted.job.id}`);
      return job.state === 'completed' || job.state === 'failed' ? (job as Wire) : undefined;
    });
    assert.equal(job.state, 'completed', job.error);
    assert.equal(job.model_uri, `runs:/${job.run_id}/model`);
    return { runId: job.run_id as string, version: job.model_version.version as number };
  })();
  return trained;
}

/** Single-row requests of every complete penguin, in file order. */
async function completeRows(): Promise<MeasurementRow[]> {
  return allCompleteRows((await servingModels()).records);
}

describe('an imported XGBoost model, an exported-then-served ONNX model and a Kiln GBDT', () => {
  let rows: MeasurementRow[];
  let kiln: ProtocolAnswers;
  let onnx: ProtocolAnswers;
  let onnxBytes: Uint8Array;
  let references: PythonReferences | undefined;
  let xgboostJson: string | undefined;

  before(async () => {
    const { records } = await servingModels();
    rows = heldOutCompleteRows(records).map((r) => r.row);
  });

  it('the Kiln GBDT and its ONNX export answer identically through the three protocols', async () => {
    const { runId, version } = await apiTrainedGbdt();
    const model = readModelPackage(await s.download(runId, 'model'));
    onnxBytes = exportOnnx(model);
    const exportRun = await s.createRun('onnx-export');
    await s.upload(exportRun, 'onnx/penguins.onnx', onnxBytes);
    const onnxVersion = await s.registerVersion('penguins-onnx', `runs:/${exportRun}/onnx`, exportRun);
    await s.deploy({ name: 'kiln-gbdt', targets: [{ model: `models:/penguins-gbdt/${version}` }] });
    await s.deploy({ name: 'onnx-gbdt', targets: [{ model: `models:/penguins-onnx/${onnxVersion}` }] });

    kiln = await answersThroughEveryProtocol(inject, '/serve/kiln-gbdt', 'kiln-gbdt', rows);
    onnx = await answersThroughEveryProtocol(inject, '/serve/onnx-gbdt', 'onnx-gbdt', rows);
    assertProtocolsAgree(kiln, 'Kiln GBDT');
    assertProtocolsAgree(onnx, 'ONNX export');
    assert.equal(kiln.predictRows.model, 'penguins-gbdt');
    assert.equal(kiln.predictRows.version, String(version));
    assert.equal(onnx.predictRows.model, 'penguins-onnx');
    assert.equal(kiln.predictRows.labels.length, rows.length);

    assert.deepEqual(onnx.predictRows.classes, kiln.predictRows.classes);
    assert.deepEqual(kiln.predictRows.classes, ['Adelie', 'Chinstrap', 'Gentoo']);
    assert.deepEqual(onnx.predictRows.labels, kiln.predictRows.labels, 'ONNX export and Kiln GBDT labels');
    const diff = maxAbsDiff(onnx.predictRows.probabilities ?? [], kiln.predictRows.probabilities ?? []);
    assert.ok(diff <= 1e-6, `ONNX and Kiln probabilities differ by ${diff}`);
    // A model that learned something: most penguins are recognised.
    const species = heldOutCompleteRows((await servingModels()).records).map((r) => r.species);
    const right = kiln.predictRows.labels.filter((label, i) => label === species[i]).length;
    assert.ok(right / rows.length > 0.9, `accuracy ${right}/${rows.length}`);
  });

  it('the imported XGBoost model answers as xgboost predict_proba through the three protocols', {
    skip: PYTHON_SKIP,
  }, async () => {
    const { records } = await servingModels();
    references = pythonReferences(records);
    xgboostJson = references.xgboost.multiclass.model;
    const run = await s.createRun('xgboost-import');
    await s.upload(run, 'xgboost/model.json', new TextEncoder().encode(xgboostJson));
    const version = await s.registerVersion('penguins-xgb', `runs:/${run}/xgboost/model.json`, run);
    await s.deploy({ name: 'xgb', targets: [{ model: `models:/penguins-xgb/${version}` }] });

    const xgb = await answersThroughEveryProtocol(inject, '/serve/xgb', 'xgb', rows);
    assertProtocolsAgree(xgb, 'XGBoost');
    const expected = heldOutCompleteRows(records).map(
      (r) => references?.xgboost.multiclass.proba[r.heldOutIndex] as number[],
    );
    const diff = maxAbsDiff(xgb.predictRows.probabilities ?? [], expected);
    assert.ok(diff <= 1e-5, `XGBoost probabilities differ from predict_proba by ${diff}`);
    assert.deepEqual(xgb.predictRows.classes, ['0', '1', '2']);
    assert.deepEqual(
      xgb.predictRows.labels,
      expected.map((p) => String(p.indexOf(Math.max(...p)))),
    );
    // Classes are the indices of the sorted species names: the same penguins as the Kiln GBDT, mostly.
    const names = references.species;
    const asSpecies = xgb.predictRows.labels.map((l) => names[Number(l)]);
    const same = asSpecies.filter((label, i) => label === kiln?.predictRows.labels[i]).length;
    if (kiln !== undefined) assert.ok(same / rows.length > 0.9, `XGBoost and Kiln agree on ${same}/${rows.length}`);
  });

  it('`kiln serve <path>` detects the flavour of a .onnx file and an XGBoost .json and serves it under --name', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'kiln-serve-e2e-'));
    const servers: { close(): Promise<void> }[] = [];
    try {
      if (onnxBytes === undefined) onnxBytes = exportOnnx(readModelPackage(packageFiles((await servingModels()).gbdt)));
      const onnxPath = join(dir, 'exported.onnx');
      await writeFile(onnxPath, onnxBytes);
      const onnxServer = await startModelServer(await testConfig(), silentLogger(), {
        target: onnxPath,
        name: 'penguins-file',
      });
      servers.push(onnxServer);
      assert.equal(onnxServer.name, 'penguins-file');
      const served = await answersThroughEveryProtocol(httpSend(onnxServer.url), '', 'penguins-file', rows);
      assertProtocolsAgree(served, 'kiln serve exported.onnx');
      assert.equal(served.predictRows.model, 'penguins-file');
      assert.equal(served.predictRows.version, '1');
      const metadata = (await (await fetch(`${onnxServer.url}/v2/models/penguins-file`)).json()) as Wire;
      assert.equal(metadata.platform, 'onnx_onnxv1');
      if (kiln !== undefined) {
        assert.deepEqual(served.predictRows.labels, kiln.predictRows.labels);
        const diff = maxAbsDiff(served.predictRows.probabilities ?? [], kiln.predictRows.probabilities ?? []);
        assert.ok(diff <= 1e-6, `kiln serve ONNX vs the Kiln deployment: ${diff}`);
      }

      if (PYTHON_SKIP !== false) return;
      xgboostJson ??= pythonReferences((await servingModels()).records).xgboost.multiclass.model;
      const xgbPath = join(dir, 'booster.json');
      await writeFile(xgbPath, xgboostJson);
      const xgbServer = await startModelServer(await testConfig(), silentLogger(), { target: xgbPath });
      servers.push(xgbServer);
      assert.equal(xgbServer.name, 'booster', 'without --name, the file name without its extension');
      const xgb = await answersThroughEveryProtocol(httpSend(xgbServer.url), '', 'booster', rows);
      assertProtocolsAgree(xgb, 'kiln serve booster.json');
      assert.equal(xgb.predictRows.model, 'booster');
      const xgbMetadata = (await (await fetch(`${xgbServer.url}/v2/models/booster`)).json()) as Wire;
      assert.equal(xgbMetadata.platform, 'xgboost_json');
      assert.deepEqual(
        xgbMetadata.inputs.map((i: Wire) => i.name),
        PENGUIN_MEASUREMENTS,
      );
    } finally {
      for (const server of servers) await server.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});

/** {@link Send} over real HTTP to `base`. */
function httpSend(base: string): Send {
  return async (method, path, payload, headers = {}) => {
    const init: RequestInit = { method, headers: { ...headers } };
    if (payload !== undefined) {
      if (typeof payload === 'string') init.body = payload;
      else {
        init.body = JSON.stringify(payload);
        (init.headers as Record<string, string>)['content-type'] = 'application/json';
      }
    }
    const res = await fetch(`${base}${path}`, init);
    return { status: res.status, text: await res.text() };
  };
}

/** Runs `task(i)` for i in 0…n-1 with `concurrency` of them in flight. */
async function pool(n: number, concurrency: number, task: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < n) await task(next++);
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
}

describe('a canary at 20 %', () => {
  it('gets 20 ± 3 % of 10,000 requests, and a routing key always reaches the same version', async () => {
    await s.deploy({
      name: 'canary',
      targets: [{ model: 'models:/penguins/1' }, { model: 'models:/penguins/2', role: 'canary', weight: 20 }],
    });
    const rows = await completeRows();
    const counts = new Map<string, number>();
    /** Row index → version → the answer, which must not vary. */
    const answers = new Map<string, string>();
    await pool(10_000, 8, async (i) => {
      const row = rows[i % rows.length] as MeasurementRow;
      const body = await s.predict('canary', { rows: [row] });
      counts.set(body.version, (counts.get(body.version) ?? 0) + 1);
      const key = `${i % rows.length}/${body.version}`;
      const label = `${body.predictions[0]} ${JSON.stringify(body.probabilities[0])}`;
      const earlier = answers.get(key);
      if (earlier !== undefined) assert.equal(label, earlier, `row ${i % rows.length}, version ${body.version}`);
      answers.set(key, label);
    });
    assert.deepEqual([...counts.keys()].sort(), ['1', '2']);
    assert.equal((counts.get('1') ?? 0) + (counts.get('2') ?? 0), 10_000);
    const share = (counts.get('2') ?? 0) / 10_000;
    assert.ok(Math.abs(share - 0.2) <= 0.03, `canary share ${share}`);

    // Sticky routing: 300 keys, each sent 4 times, by header and by body, through /predict.
    const byKey = new Map<string, Set<string>>();
    await pool(1200, 8, async (i) => {
      const key = `customer-${i % 300}`;
      const row = rows[i % rows.length] as MeasurementRow;
      const body =
        i % 2 === 0
          ? await s.predict('canary', { rows: [row] }, { 'x-kiln-route-key': key })
          : await s.predict('canary', { rows: [row], route_key: key });
      const seen = byKey.get(key) ?? new Set<string>();
      seen.add(body.version);
      byKey.set(key, seen);
    });
    for (const [key, versions] of byKey) assert.equal(versions.size, 1, `${key} reached versions ${[...versions]}`);
    const canaryKeys = [...byKey.values()].filter((v) => v.has('2')).length;
    assert.ok(canaryKeys > 0 && canaryKeys < 300, `${canaryKeys} of 300 keys on the canary`);
    const status = await s.ok('GET', '/api/v1/deployments/canary/status');
    const requests = Object.fromEntries(status.status.targets.map((t: Wire) => [t.role, t.requests]));
    assert.equal(requests.primary + requests.canary, 11_200);
  });
});

describe('a shadow at 100 %', () => {
  it('never answers, is compared on every request, and a failing shadow is counted without touching the primary', async () => {
    await s.deploy({ name: 'plain-v1', targets: [{ model: 'models:/penguins/1' }] });
    await s.deploy({ name: 'plain-v2', targets: [{ model: 'models:/penguins/2' }] });
    await s.deploy({
      name: 'shadowed',
      targets: [
        { model: 'models:/penguins/1' },
        { model: 'models:/penguins/2', role: 'shadow', weight: 100 },
        // Needs Island and Sex, which the requests lack: every mirrored request fails on it.
        { model: 'models:/penguins-full/1', role: 'shadow', weight: 100 },
      ],
    });
    const rows = await completeRows();
    const N = 150;
    let rowsSent = 0;
    let agreeing = 0;
    for (let i = 0; i < N; i++) {
      const batch = [0, 1, 2].map((j) => rows[(i * 3 + j) % rows.length] as MeasurementRow);
      const answer = await s.predict('shadowed', { rows: batch });
      const primary = await s.predict('plain-v1', { rows: batch });
      const challenger = await s.predict('plain-v2', { rows: batch });
      assert.equal(answer.model, 'penguins');
      assert.equal(answer.version, '1', 'the shadow never answers');
      assert.deepEqual(answer.predictions, primary.predictions);
      assert.deepEqual(answer.probabilities, primary.probabilities);
      rowsSent += batch.length;
      agreeing += batch.filter((_, r) => answer.predictions[r] === challenger.predictions[r]).length;
    }
    const report = await s.until('every request mirrored to both shadows', async () => {
      const { report } = await s.ok('GET', '/api/v1/deployments/shadowed/shadow-report');
      const done = report.comparisons.length === 2 && report.comparisons.every((c: Wire) => c.mirrored >= N);
      return done ? (report as Wire) : undefined;
    });
    assert.equal(report.deployment, 'shadowed');
    const byVersion = new Map<string, Wire>(report.comparisons.map((c: Wire) => [c.shadow, c]));
    const good = byVersion.get('models:/penguins/2');
    const failing = byVersion.get('models:/penguins-full/1');
    assert.ok(good !== undefined && failing !== undefined, JSON.stringify(report));
    assert.equal(good.mirrored, N);
    assert.equal(good.shadow_errors, 0);
    assert.ok(
      Math.abs(good.label_agreement - agreeing / rowsSent) < 1e-12,
      `${good.label_agreement} vs ${agreeing}/${rowsSent}`,
    );
    assert.ok(agreeing < rowsSent, 'the two models disagree somewhere, so the figure means something');
    assert.ok(good.mean_abs_diff > 0 && good.max_abs_diff >= good.mean_abs_diff);
    assert.equal(failing.mirrored, N);
    assert.equal(failing.shadow_errors, N);
    assert.equal(failing.label_agreement, undefined);
  });
});

describe('a deployment following models:/swap@champion', () => {
  it('switches versions each time the alias moves, under continuous concurrent load, with zero failed requests', async () => {
    await s.registerVersion('swap', `runs:/${modelsRun}/gbdt`, modelsRun);
    await s.registerVersion('swap', `runs:/${modelsRun}/logistic`, modelsRun);
    await s.setAlias('swap', 'champion', 1);
    await s.deploy({ name: 'swap', targets: [{ model: 'models:/swap@champion' }] });
    const url = await s.listen();
    const rows = await completeRows();

    interface Outcome {
      started: number;
      finished: number;
      status: number;
      version?: string;
      error?: string;
    }
    const outcomes: Outcome[] = [];
    let tick = 0;
    let stop = false;
    const client = async (c: number) => {
      for (let i = c; !stop; i += 6) {
        const started = ++tick;
        try {
          const res = await fetch(`${url}/serve/swap/predict`, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({ rows: [rows[i % rows.length], rows[(i + 1) % rows.length]] }),
          });
          const text = await res.text();
          const outcome: Outcome = { started, finished: ++tick, status: res.status };
          if (res.status === 200) outcome.version = (JSON.parse(text) as Wire).version;
          else outcome.error = text;
          outcomes.push(outcome);
        } catch (err) {
          outcomes.push({ started, finished: ++tick, status: 0, error: String(err) });
        }
      }
    };
    const clients = Array.from({ length: 6 }, (_, c) => client(c));
    try {
      const moves = [2, 1, 2, 1, 2, 1];
      let previous = { version: '1', switched: 0 };
      await s.until('load before the first move', async () => (outcomes.length >= 50 ? true : undefined));
      for (const version of moves) {
        const moved = ++tick;
        await s.setAlias('swap', 'champion', version);
        const wanted = String(version);
        const switched = await s.until(`answers from version ${version}`, async () => {
          const first = outcomes.find((o) => o.started > moved && o.version === wanted);
          return first?.finished;
        });
        // Keep the load on the new version for a while before the next move.
        await s.until('load on the new version', async () =>
          outcomes.filter((o) => o.started > switched).length >= 40 ? true : undefined,
        );
        // Between the previous switch and this move, only the previous version answered.
        const stale = outcomes.filter(
          (o) => o.started > previous.switched && o.finished < moved && o.version !== previous.version,
        );
        assert.deepEqual(stale, [], `answers other than version ${previous.version} before the move`);
        previous = { version: wanted, switched };
      }
    } finally {
      stop = true;
      await Promise.all(clients);
    }
    const failed = outcomes.filter((o) => o.status !== 200);
    assert.deepEqual(failed, [], `${failed.length} of ${outcomes.length} requests failed`);
    assert.ok(outcomes.length > 300, `${outcomes.length} requests under load`);
    const final = (await s.ok('GET', '/api/v1/deployments/swap/status')).status;
    assert.equal(final.targets[0].version, '1');
  });
});

describe('promote and rollback', () => {
  it('change which version answers, and a failed update to a corrupt model keeps the old version serving', async () => {
    const rows = (await completeRows()).slice(0, 5);
    const versionsOf = async (keys: number) => {
      const seen = new Set<string>();
      for (let k = 0; k < keys; k++) {
        seen.add((await s.predict('promo', { rows }, { 'x-kiln-route-key': `user-${k}` })).version);
      }
      return [...seen].sort();
    };
    await s.deploy({ name: 'promo', targets: [{ model: 'models:/penguins/1' }] });
    assert.deepEqual(await versionsOf(40), ['1']);

    const canary = await s.ok('PATCH', '/api/v1/deployments/promo', {
      targets: [{ model: 'models:/penguins/1' }, { model: 'models:/penguins/2', role: 'canary', weight: 50 }],
    });
    assert.equal(canary.deployment.revision, 2);
    assert.equal(canary.deployment.strategy, 'canary');
    assert.deepEqual(await versionsOf(40), ['1', '2']);

    const promoted = await s.ok('POST', '/api/v1/deployments/promo/promote', {});
    assert.equal(promoted.deployment.revision, 3);
    assert.equal(promoted.deployment.reason, 'promote');
    assert.deepEqual(
      promoted.deployment.targets.map((t: Wire) => [t.model, t.role]),
      [['models:/penguins/2', 'primary']],
    );
    assert.deepEqual(await versionsOf(40), ['2']);

    const back = await s.ok('POST', '/api/v1/deployments/promo/rollback', {});
    assert.equal(back.deployment.revision, 4);
    assert.equal(back.deployment.strategy, 'canary');
    assert.deepEqual(await versionsOf(40), ['1', '2']);

    const first = await s.ok('POST', '/api/v1/deployments/promo/rollback', { revision: 1 });
    assert.equal(first.deployment.revision, 5);
    assert.deepEqual(await versionsOf(40), ['1']);

    // A version whose package was damaged after it was written: learner.json no longer matches the manifest.
    const files = packageFiles((await servingModels()).logistic);
    const learner = new TextDecoder().decode(files.get('learner.json'));
    files.set('learner.json', new TextEncoder().encode(learner.replace(/\d/, (d) => String((Number(d) + 1) % 10))));
    const run = await s.createRun('corrupt');
    await s.uploadAll(run, 'model', files);
    const corrupt = await s.registerVersion('penguins', `runs:/${run}/model`, run);
    const expected = await s.predict('promo', { rows });

    const failed = await s.call('PATCH', '/api/v1/deployments/promo', {
      targets: [{ model: `models:/penguins/${corrupt}` }],
    });
    assert.ok(failed.status >= 400 && failed.status < 500, `${failed.status}: ${failed.text}`);
    assert.match(failed.body.message, /learner\.json/, failed.text);
    const canaryFailed = await s.call('PATCH', '/api/v1/deployments/promo', {
      targets: [{ model: 'models:/penguins/1' }, { model: `models:/penguins/${corrupt}`, role: 'canary', weight: 10 }],
    });
    assert.ok(canaryFailed.status >= 400 && canaryFailed.status < 500, canaryFailed.text);
    assert.equal(canaryFailed.body.details.field, 'targets[1].model', 'the error names the target that failed');

    const after = await s.ok('GET', '/api/v1/deployments/promo');
    assert.equal(after.deployment.revision, 5, 'a failed update stores no revision');
    assert.deepEqual(
      after.deployment.targets.map((t: Wire) => t.model),
      ['models:/penguins/1'],
    );
    assert.equal(after.deployment.status.ready, true);
    assert.deepEqual(await versionsOf(40), ['1']);
    const still = await s.predict('promo', { rows });
    assert.deepEqual(
      [still.version, still.predictions, still.probabilities],
      [expected.version, expected.predictions, expected.probabilities],
    );

    const notCreated = await s.call('POST', '/api/v1/deployments', {
      name: 'corrupt',
      targets: [{ model: `models:/penguins/${corrupt}` }],
    });
    assert.ok(notCreated.status >= 400 && notCreated.status < 500, notCreated.text);
    assert.equal((await s.call('GET', '/api/v1/deployments/corrupt')).status, 404);
    assert.equal((await s.call('POST', '/serve/corrupt/predict', { rows })).status, 404);
  });
});

describe('batch scoring', () => {
  it('scores a dataset version into a new version whose predictions equal /predict on the same rows', async () => {
    const { version } = await apiTrainedGbdt();
    const model = `models:/penguins-gbdt/${version}`;
    const submitted = await s.ok(
      'POST',
      '/api/v1/scoring-jobs',
      { model, data: 'penguins@1', out: 'penguins-scored', chunk_rows: 100 },
      202,
    );
    const job = await s.until('the scoring job', async () => {
      const { job } = await s.ok('GET', `/api/v1/scoring-jobs/${submitted.job.id}`);
      return job.state === 'succeeded' || job.state === 'failed' ? (job as Wire) : undefined;
    });
    assert.equal(job.state, 'succeeded', job.error);
    assert.deepEqual(job.input, { dataset: 'penguins', version: 1 });
    assert.equal(job.output.dataset, 'penguins-scored');
    assert.equal(job.progress.rows_scored, 344);

    const scored: Wire[] = [];
    let offset: number | undefined = 0;
    let columns: Wire[] = [];
    while (offset !== undefined) {
      const page = await s.ok(
        'GET',
        `/api/v1/datasets/penguins-scored/versions/${job.output.version}/rows?offset=${offset}&limit=1000`,
      );
      columns = page.columns;
      scored.push(...page.rows);
      offset = page.next_offset;
    }
    assert.equal(scored.length, 344);
    const names = columns.map((c) => c.name);
    for (const name of ['Species', 'Island', ...PENGUIN_MEASUREMENTS, 'prediction'])
      assert.ok(names.includes(name), name);

    await s.deploy({ name: 'scoring-check', targets: [{ model }] });
    // The scored rows as they are, prediction columns and all: extra columns are ignored by default.
    const inputs = scored.map((row) => Object.fromEntries(PENGUIN_MEASUREMENTS.map((c) => [c, row[c]])));
    const answer = await s.predict('scoring-check', { rows: inputs });
    assert.deepEqual(
      scored.map((row) => row.prediction),
      answer.predictions,
    );
    const classes = answer.classes as string[];
    for (const name of classes) assert.ok(names.includes(`probability_${name}`), `probability_${name}`);
    const fromJob = scored.map((row) => classes.map((c) => Number(row[`probability_${c}`])));
    assert.ok(maxAbsDiff(fromJob, answer.probabilities) <= 1e-12, `${maxAbsDiff(fromJob, answer.probabilities)}`);
  });
});
