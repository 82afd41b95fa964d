/**
 * The model and requests of the serving benchmark (bench/serve.ts): a Kiln GBDT — 100 trees of
 * depth 6 on 30 features, trained with Kiln's `trainModel` on sklearn `make_classification` data
 * (60,000 rows, 15 informative, seed 0; the first 50,000 train it) — written as a Kiln model package
 * directory, and the request bodies of each protocol built from held-out rows. The package is cached
 * under `.bench/` since training it is not what is measured.
 *
 * Run as a script it is the in-process side of two measurements, each in its own process:
 * `node --import tsx bench/serve-model.ts predict <package> <X.f64> <seconds>` (rows/s of
 * `predictModel` on 1,000-row frames, the batch baseline) and `node --expose-gc --import tsx
 * bench/serve-model.ts memory <package> <n>` (heap and RSS around loading n models into a
 * `ServingRuntime`).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Registry } from 'prom-client';
import { silentLogger, systemContext } from '../src/core/index.js';
import {
  type Frame,
  predictModel,
  readModelPackage,
  rocAuc,
  type TrainedModel,
  trainModel,
  writeModelPackage,
} from '../src/learn/index.js';
import { type DeploymentSpec, FileModelLoader, ServingRuntime } from '../src/serving/index.js';
import { ROOT } from './lib/kiln.js';
import { median, progress, round } from './lib/result.js';

/** Rows generated; the first {@link TRAIN_ROWS} train the model, the rest make requests. */
export const DATA_ROWS = 60_000;
export const TRAIN_ROWS = 50_000;
export const FEATURES = 30;
export const TREES = 100;
export const DEPTH = 6;
/** Rows of one batch request. */
export const BATCH_ROWS = 1000;
/** Bump when the model or data change, so a stale cache is not reused. */
const CACHE_VERSION = 'serve-gbdt-v1';
const FEATURE_NAMES = Array.from({ length: FEATURES }, (_, i) => `x${i}`);

const PYTHON = `
import sys
import numpy as np
from sklearn.datasets import make_classification
X, y = make_classification(n_samples=${DATA_ROWS}, n_features=${FEATURES}, n_informative=15, random_state=0)
X.astype(np.float64).tofile(sys.argv[1] + '/X.f64')
y.astype(np.float64).tofile(sys.argv[1] + '/y.f64')
`;

/** The cached model package and the data it was trained on. */
export interface ServeModel {
  /** A Kiln model package directory (`kiln-model.json`, `learner.json`, …). */
  packageDir: string;
  /** DATA_ROWS × FEATURES row-major float64 file. */
  xFile: string;
  /** Bytes of the package's files. */
  packageBytes: number;
  trainSeconds: number | null;
  testAuc: number | null;
}

function frameOf(X: Float64Array, from: number, count: number, y?: Float64Array): Frame {
  const columns: Frame['columns'] = FEATURE_NAMES.map((name, j) => {
    const values = new Float64Array(count);
    for (let i = 0; i < count; i++) values[i] = X[(from + i) * FEATURES + j] as number;
    return { kind: 'float', name, values };
  });
  if (y !== undefined) columns.push({ kind: 'float', name: 'y', values: y.slice(from, from + count) });
  return { rows: count, columns };
}

function readF64(file: string): Float64Array {
  const bytes = readFileSync(file);
  return new Float64Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
}

function readPackageDir(dir: string): TrainedModel {
  const files = new Map(readdirSync(dir).map((name) => [name, new Uint8Array(readFileSync(join(dir, name)))]));
  return readModelPackage(files);
}

function packageBytes(dir: string): number {
  return readdirSync(dir).reduce((sum, name) => sum + readFileSync(join(dir, name)).length, 0);
}

/**
 * The GBDT package and its data, from `.bench/serve-gbdt-v1/` when a previous run left them there,
 * else generated (Python) and trained (Kiln, in this process) and cached.
 */
export async function serveModel(): Promise<ServeModel> {
  const dir = join(ROOT, '.bench', CACHE_VERSION);
  const packageDir = join(dir, 'package');
  const xFile = join(dir, 'X.f64');
  if (existsSync(join(packageDir, 'kiln-model.json')) && existsSync(xFile)) {
    progress(`serve: reusing the GBDT package cached in ${dir}`);
    return { packageDir, xFile, packageBytes: packageBytes(packageDir), trainSeconds: null, testAuc: null };
  }
  const building = `${dir}.building-${process.pid}`;
  rmSync(building, { recursive: true, force: true });
  mkdirSync(join(building, 'package'), { recursive: true });
  try {
    progress(`serve: make_classification ${DATA_ROWS} × ${FEATURES} (Python)`);
    const python = spawnSync('/usr/bin/python3', ['-c', PYTHON, building], { encoding: 'utf8' });
    if (python.status !== 0) throw new Error(`python failed: ${python.stderr}`);
    const X = readF64(join(building, 'X.f64'));
    const y = readF64(join(building, 'y.f64'));
    progress(`serve: training GBDT, ${TREES} trees of depth ${DEPTH} on ${TRAIN_ROWS} rows (Kiln trainModel)`);
    const start = performance.now();
    const { model } = await trainModel(frameOf(X, 0, TRAIN_ROWS, y), {
      task: 'binary',
      target: 'y',
      model: 'gbdt',
      params: { n_estimators: TREES, max_depth: DEPTH, learning_rate: 0.1 },
    });
    const trainSeconds = (performance.now() - start) / 1000;
    const test = frameOf(X, TRAIN_ROWS, DATA_ROWS - TRAIN_ROWS);
    const scores = predictModel(model, test).probabilities;
    const positive = model.classes?.indexOf('1') ?? 1;
    const classes = model.classes?.length ?? 2;
    const p = Float64Array.from({ length: test.rows }, (_, i) => scores?.[i * classes + positive] ?? Number.NaN);
    const labels = Int32Array.from(y.subarray(TRAIN_ROWS));
    const testAuc = rocAuc(labels, p);
    for (const [name, bytes] of writeModelPackage(model, { metrics: { test_auc: testAuc } })) {
      writeFileSync(join(building, 'package', name), bytes);
    }
    rmSync(join(building, 'y.f64'));
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(join(ROOT, '.bench'), { recursive: true });
    renameSync(building, dir);
    progress(`serve: trained in ${trainSeconds.toFixed(1)} s, test AUC ${testAuc.toFixed(4)}; cached in ${dir}`);
    return { packageDir, xFile, packageBytes: packageBytes(packageDir), trainSeconds, testAuc };
  } catch (err) {
    rmSync(building, { recursive: true, force: true });
    throw err;
  }
}

/** The request body files of each protocol, written into `scratch`. */
export interface RequestBodies {
  /** Kiln `POST /predict`, one row: `{"rows": [{"x0": …, …}]}`. */
  predictOne: string;
  /** OIP infer, one row as one [1, 30] FP64 tensor (the layout sklearn / XGBoost clients send). */
  oipOne: string;
  /** MLflow `/invocations`, one row as `dataframe_split`. */
  invocationsOne: string;
  /** Kiln `POST /predict`, {@link BATCH_ROWS} rows. */
  predictBatch: string;
  /** Size of each body in bytes. */
  bytes: Record<string, number>;
}

/** Writes the request bodies from held-out rows (full float64 precision, as JSON.stringify writes it). */
export function writeRequestBodies(model: ServeModel, scratch: string): RequestBodies {
  const X = readF64(model.xFile);
  const row = (i: number): number[] =>
    Array.from(X.subarray((TRAIN_ROWS + i) * FEATURES, (TRAIN_ROWS + i + 1) * FEATURES));
  const record = (i: number) => Object.fromEntries(row(i).map((value, j) => [FEATURE_NAMES[j], value]));
  const bodies: Record<string, unknown> = {
    predictOne: { rows: [record(0)] },
    oipOne: { inputs: [{ name: 'input-0', shape: [1, FEATURES], datatype: 'FP64', data: row(0) }] },
    invocationsOne: { dataframe_split: { columns: FEATURE_NAMES, data: [row(0)] } },
    predictBatch: { rows: Array.from({ length: BATCH_ROWS }, (_, i) => record(i)) },
  };
  const files: Record<string, string> = {};
  const bytes: Record<string, number> = {};
  for (const [name, body] of Object.entries(bodies)) {
    const file = join(scratch, `${name}.json`);
    const text = JSON.stringify(body);
    writeFileSync(file, text);
    files[name] = file;
    bytes[name] = Buffer.byteLength(text);
  }
  return {
    predictOne: files.predictOne as string,
    oipOne: files.oipOne as string,
    invocationsOne: files.invocationsOne as string,
    predictBatch: files.predictBatch as string,
    bytes,
  };
}

/** In-process prediction: rows/s on 1,000-row frames for `seconds`, and µs per 1-row call. */
async function predictSide(packageDir: string, xFile: string, seconds: number): Promise<void> {
  const model = readPackageDir(packageDir);
  const X = readF64(xFile);
  const batch = frameOf(X, TRAIN_ROWS, BATCH_ROWS);
  const one = frameOf(X, TRAIN_ROWS, 1);
  const warmUntil = performance.now() + 1000;
  while (performance.now() < warmUntil) predictModel(model, batch);
  let rows = 0;
  const cpuStart = process.cpuUsage();
  const start = performance.now();
  const end = start + seconds * 1000;
  while (performance.now() < end) {
    predictModel(model, batch);
    rows += BATCH_ROWS;
  }
  const rowsPerSec = rows / ((performance.now() - start) / 1000);
  const cpu = process.cpuUsage(cpuStart);
  // CPU µs per batch: unlike rows/s it does not count time the core spent on other processes.
  const cpuMicrosPerBatch = ((cpu.user + cpu.system) * BATCH_ROWS) / rows;
  const times: number[] = [];
  for (let i = 0; i < 2000; i++) {
    const t = performance.now();
    predictModel(model, one);
    times.push(performance.now() - t);
  }
  process.stdout.write(`${JSON.stringify({ rowsPerSec, cpuMicrosPerBatch, oneRowUs: median(times) * 1000 })}\n`);
}

/** The spec `kiln serve <path>` applies, under deployment name `name`. */
function pathSpec(name: string, path: string): DeploymentSpec {
  return {
    workspace: 'default',
    name,
    strategy: 'single',
    targets: [{ model: path, role: 'primary', weight: 100 }],
    maxQueue: 1000,
    timeoutMs: 10_000,
    input: { extraColumns: 'ignore', maxBatchRows: 10_000 },
    logging: { sampleRate: 0 },
  };
}

/**
 * Memory around loading: a `ServingRuntime` over the file loader (what `kiln serve <path>` runs),
 * measured after a full GC with nothing loaded, with one deployment of the package, and with `n`
 * deployments of it (each loads and warms its own copy). MB per model is the slope from 1 to n,
 * so one-time costs (code, JIT, the first load's buffers) show separately as `firstModelMb`.
 */
async function memorySide(packageDir: string, n: number): Promise<void> {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc === undefined) throw new Error('run with --expose-gc');
  const measure = () => {
    gc();
    gc();
    const usage = process.memoryUsage();
    return {
      rssMb: usage.rss / 2 ** 20,
      heapUsedMb: usage.heapUsed / 2 ** 20,
      externalMb: (usage.external + usage.arrayBuffers) / 2 ** 20,
    };
  };
  const runtime = new ServingRuntime({
    loader: new FileModelLoader(),
    metrics: new Registry(),
    logger: silentLogger(),
  });
  const ctx = systemContext('bench');
  const empty = measure();
  await runtime.apply(ctx, pathSpec('m0', packageDir));
  const one = measure();
  for (let i = 1; i < n; i++) await runtime.apply(ctx, pathSpec(`m${i}`, packageDir));
  const all = measure();
  const per = (key: keyof typeof all) => round((all[key] - one[key]) / (n - 1));
  const first = (key: keyof typeof all) => round(one[key] - empty[key]);
  const answer = {
    models: n,
    perModelMb: { rss: per('rssMb'), heapUsed: per('heapUsedMb'), external: per('externalMb') },
    firstModelMb: { rss: first('rssMb'), heapUsed: first('heapUsedMb'), external: first('externalMb') },
    emptyMb: { rss: round(empty.rssMb), heapUsed: round(empty.heapUsedMb) },
    loadedMb: { rss: round(all.rssMb), heapUsed: round(all.heapUsedMb) },
  };
  await runtime.close();
  process.stdout.write(`${JSON.stringify(answer)}\n`);
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const [mode, packageDir, a, b] = process.argv.slice(2);
  if (mode === 'predict') await predictSide(packageDir as string, a as string, Number(b));
  else if (mode === 'memory') await memorySide(packageDir as string, Number(a));
  else throw new Error(`usage: serve-model.ts predict <package> <X.f64> <seconds> | memory <package> <n>`);
}
