/**
 * Logistic regression and random forest on the real flights-3m data (delay > 15 min), Kiln against
 * sklearn 1.2 on the same rows in the same run: training time and test ROC AUC.
 *
 * Run as a module by bench/run.ts; run as a script (`node --import tsx bench/learn-flights.ts kiln <dir>`)
 * it is Kiln's side, training on the files the preparation step wrote.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { DuckDBInstance } from '@duckdb/node-api';
import {
  createRng,
  fitForest,
  fitLogisticRegression,
  type Matrix,
  predictForestProba,
  predictLogisticProba,
  rocAuc,
  shuffleInPlace,
} from '../src/learn/index.js';
import type { Benchmark, BenchOptions } from './lib/benchmark.js';
import { ROOT } from './lib/kiln.js';
import { describeMachine } from './lib/machine.js';
import { type BenchResult, benchResult, progress, round } from './lib/result.js';

/** Kiln's two trainings together may take at most 1.5 × sklearn's, each at a test AUC within 0.005. */
const BUDGET = { max: 1.5 };
const AUC_TOLERANCE = 0.005;
/** Training rows of each learner (the first of one shuffled sample) and the test rows both score. */
const LOGISTIC_TRAIN = 250_000;
const FOREST_TRAIN = 300_000;
const TEST = 250_000;
const TREES = 100;
/** Both forests stop splitting at 5 rows per leaf: fully grown trees on 300k noisy rows hold ~10 M nodes per forest. */
const MIN_SAMPLES_LEAF = 5;
const FOREST_COLUMNS = ['hour', 'weekday', 'month', 'distance', 'origin', 'destination'];
/** One-hot hour, weekday and month, standardised distance, target-encoded origin and destination. */
const LOGISTIC_COLUMNS = [
  ...Array.from({ length: 24 }, (_, h) => `hour=${h}`),
  ...Array.from({ length: 7 }, (_, d) => `weekday=${d}`),
  ...Array.from({ length: 6 }, (_, m) => `month=${m + 1}`),
  'distance',
  'origin_rate',
  'destination_rate',
];
const FLIGHTS = join(ROOT, 'node_modules/vega-datasets/data/flights-3m.parquet');

const SKLEARN = `
import json, resource, sys, time
import numpy as np
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
d, n_log, n_forest, n_test, trees, leaf = sys.argv[1], *map(int, sys.argv[2:])
y = np.fromfile(d + '/y_train.f64')
y_test = np.fromfile(d + '/y_test.f64')
X = np.fromfile(d + '/logistic_train.f64').reshape(n_log, -1)
X_test = np.fromfile(d + '/logistic_test.f64').reshape(n_test, -1)
start = time.perf_counter()
logistic = LogisticRegression(max_iter=1000).fit(X, y[:n_log])
logistic_seconds = time.perf_counter() - start
logistic_auc = roc_auc_score(y_test, logistic.predict_proba(X_test)[:, 1])
X = np.fromfile(d + '/forest_train.f64').reshape(n_forest, -1)
X_test = np.fromfile(d + '/forest_test.f64').reshape(n_test, -1)
start = time.perf_counter()
forest = RandomForestClassifier(n_estimators=trees, min_samples_leaf=leaf, n_jobs=2, random_state=0).fit(X, y[:n_forest])
forest_seconds = time.perf_counter() - start
forest_auc = roc_auc_score(y_test, forest.predict_proba(X_test)[:, 1])
print(json.dumps({'logisticSeconds': logistic_seconds, 'logisticAuc': logistic_auc, 'logisticIterations': int(logistic.n_iter_[0]),
                  'forestSeconds': forest_seconds, 'forestAuc': forest_auc,
                  'forestNodes': int(sum(e.tree_.node_count for e in forest.estimators_)),
                  'peakRssMb': resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024}))
`;

/** Per flight (delay known): the forest's six features as numbers and the label delay > 15. */
async function readFlights(): Promise<{ columns: Float64Array[]; delayed: Float64Array; airports: number }> {
  const instance = await DuckDBInstance.create(':memory:');
  const connection = await instance.connect();
  try {
    const reader = await connection.runAndReadAll(`
      with f as (select * from read_parquet('${FLIGHTS}') where delay is not null),
      airports as (select a, row_number() over (order by a) - 1 as code
                   from (select origin as a from f union select destination from f))
      select hour(date)::double as hour, (isodow(date) - 1)::double as weekday, month(date)::double as month,
             distance::double as distance, o.code::double as origin, d.code::double as destination,
             (delay > 15)::double as delayed, (select count(*) from airports)::double as airports
      from f join airports o on o.a = f.origin join airports d on d.a = f.destination
      order by f.date, f.origin, f.destination, f.delay, f.distance`);
    const columns = reader.getColumns().map((values) => Float64Array.from(values as number[]));
    const airports = columns[7]?.[0] ?? 0;
    return { columns: columns.slice(0, 6), delayed: columns[6] as Float64Array, airports };
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
}

/** Row-major matrix of the forest features for `rows`. */
function forestMatrix(columns: Float64Array[], rows: Int32Array): Float64Array {
  const out = new Float64Array(rows.length * columns.length);
  rows.forEach((r, i) => {
    columns.forEach((column, f) => {
      out[i * columns.length + f] = column[r] as number;
    });
  });
  return out;
}

/**
 * The logistic design matrix for `rows`, its encodings learned on `train`: one-hot hour / weekday /
 * month, distance standardised, origin and destination replaced by their smoothed delay rate.
 */
function logisticMatrix(
  columns: Float64Array[],
  delayed: Float64Array,
  airports: number,
  train: Int32Array,
  rows: Int32Array,
): Float64Array {
  const [hour, weekday, month, distance, origin, destination] = columns as [Float64Array, ...Float64Array[]];
  let mean = 0;
  let square = 0;
  let rate = 0;
  for (const r of train) {
    mean += distance?.[r] as number;
    square += (distance?.[r] as number) ** 2;
    rate += delayed[r] as number;
  }
  mean /= train.length;
  rate /= train.length;
  const std = Math.sqrt(square / train.length - mean * mean);
  const smoothing = 20;
  const encode = (column: Float64Array) => {
    const sums = new Float64Array(airports);
    const counts = new Float64Array(airports);
    for (const r of train) {
      const a = column[r] as number;
      sums[a] = (sums[a] as number) + (delayed[r] as number);
      counts[a] = (counts[a] as number) + 1;
    }
    return sums.map((s, a) => (s + smoothing * rate) / ((counts[a] as number) + smoothing));
  };
  const originRate = encode(origin as Float64Array);
  const destinationRate = encode(destination as Float64Array);
  const cols = LOGISTIC_COLUMNS.length;
  const out = new Float64Array(rows.length * cols);
  rows.forEach((r, i) => {
    const o = i * cols;
    out[o + (hour[r] as number)] = 1;
    out[o + 24 + (weekday?.[r] as number)] = 1;
    out[o + 31 + (month?.[r] as number) - 1] = 1;
    out[o + 37] = ((distance?.[r] as number) - mean) / std;
    out[o + 38] = originRate[origin?.[r] as number] as number;
    out[o + 39] = destinationRate[destination?.[r] as number] as number;
  });
  return out;
}

/** Samples the rows once (seeded) and writes both sides' inputs as row-major doubles. */
async function prepare(dir: string): Promise<{ flights: number }> {
  const { columns, delayed, airports } = await readFlights();
  const order = shuffleInPlace(
    Int32Array.from({ length: delayed.length }, (_, i) => i),
    createRng(42),
  );
  const trainRows = Math.max(LOGISTIC_TRAIN, FOREST_TRAIN);
  const train = order.slice(0, trainRows);
  const test = order.slice(trainRows, trainRows + TEST);
  const write = (name: string, values: Float64Array) => writeFileSync(join(dir, name), values);
  write(
    'y_train.f64',
    Float64Array.from(train, (r) => delayed[r] as number),
  );
  write(
    'y_test.f64',
    Float64Array.from(test, (r) => delayed[r] as number),
  );
  write('forest_train.f64', forestMatrix(columns, train.subarray(0, FOREST_TRAIN)));
  write('forest_test.f64', forestMatrix(columns, test));
  const logisticTrain = train.subarray(0, LOGISTIC_TRAIN);
  write('logistic_train.f64', logisticMatrix(columns, delayed, airports, logisticTrain, logisticTrain));
  write('logistic_test.f64', logisticMatrix(columns, delayed, airports, logisticTrain, test));
  return { flights: delayed.length };
}

function readDoubles(dir: string, name: string): Float64Array {
  const bytes = readFileSync(join(dir, name));
  return new Float64Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
}

function matrix(data: Float64Array, names: string[]): Matrix {
  return { rows: data.length / names.length, cols: names.length, data, names };
}

/** The probability of class 1 per row from a `rows × 2` probability matrix. */
function positive(proba: Float64Array): Float64Array {
  return Float64Array.from({ length: proba.length / 2 }, (_, r) => proba[2 * r + 1] as number);
}

/** Kiln's side, in its own process: trains both learners and prints seconds, AUC and peak RSS. */
async function kilnSide(dir: string): Promise<void> {
  const y = readDoubles(dir, 'y_train.f64');
  const yTest = readDoubles(dir, 'y_test.f64');
  const logisticX = matrix(readDoubles(dir, 'logistic_train.f64'), LOGISTIC_COLUMNS);
  const labels = Int32Array.from(y.subarray(0, logisticX.rows));
  let start = performance.now();
  const logistic = fitLogisticRegression(logisticX, labels);
  const logisticSeconds = (performance.now() - start) / 1000;
  const logisticTest = matrix(readDoubles(dir, 'logistic_test.f64'), LOGISTIC_COLUMNS);
  const logisticAuc = rocAuc(yTest, positive(predictLogisticProba(logistic, logisticTest).data));
  const forestX = matrix(readDoubles(dir, 'forest_train.f64'), FOREST_COLUMNS);
  start = performance.now();
  const forest = await fitForest(forestX, y.subarray(0, forestX.rows), {
    task: 'classification',
    nEstimators: TREES,
    minSamplesLeaf: MIN_SAMPLES_LEAF,
    seed: 0,
    threads: 2,
  });
  const forestSeconds = (performance.now() - start) / 1000;
  const forestAuc = rocAuc(
    yTest,
    positive(predictForestProba(forest, matrix(readDoubles(dir, 'forest_test.f64'), FOREST_COLUMNS))),
  );
  const status = readFileSync('/proc/self/status', 'utf8');
  const peakRssMb = Math.round(Number(/^VmHWM:\s+(\d+) kB/m.exec(status)?.[1] ?? 0) / 1024);
  const forestNodes = forest.trees.reduce((sum, tree) => sum + tree.feature.length, 0);
  process.stdout.write(
    `${JSON.stringify({ logisticSeconds, logisticAuc, logisticIterations: logistic.iterations, forestSeconds, forestAuc, forestNodes, peakRssMb })}\n`,
  );
}

function run(command: string, args: string[]): Record<string, number> {
  const child = spawnSync(command, args, { cwd: ROOT, encoding: 'utf8', maxBuffer: 1 << 20 });
  if (child.status !== 0) throw new Error(`${command} failed: ${child.stderr}`);
  return JSON.parse(child.stdout.trim().split('\n').at(-1) ?? '{}') as Record<string, number>;
}

/**
 * flights-3m, delay > 15 min: logistic regression on 250,000 rows (40 columns: one-hot hour / weekday /
 * month, distance, target-encoded airports) and a 100-tree random forest on 300,000 rows (hour, weekday,
 * month, distance, airport codes; min 5 rows per leaf), both tested on 250,000 other rows; Kiln against
 * sklearn (lbfgs; RandomForestClassifier n_jobs=2) in separate processes on the same files. One round
 * only, whatever `--rounds` says: each side trains for minutes (Kiln's logistic regression alone takes
 * ~5× sklearn's, which is why it gets 250,000 rows rather than a million).
 */
export const learnFlightsBenchmark: Benchmark = {
  name: 'learn-flights',
  description: 'flights-3m delay>15: logistic (250k rows) + random forest (300k rows, 100 trees) vs sklearn',
  needsBuild: false,
  async run(_options: BenchOptions): Promise<BenchResult> {
    const dir = mkdtempSync(join(tmpdir(), 'kiln-bench-learn-'));
    try {
      progress('learn-flights: sampling flights-3m');
      const { flights } = await prepare(dir);
      const sizes = [LOGISTIC_TRAIN, FOREST_TRAIN, TEST, TREES, MIN_SAMPLES_LEAF].map(String);
      progress('learn-flights: sklearn');
      const sklearn = run('/usr/bin/python3', ['-c', SKLEARN, dir, ...sizes]);
      progress('learn-flights: kiln');
      const kiln = run(process.execPath, ['--import', 'tsx', join(ROOT, 'bench/learn-flights.ts'), 'kiln', dir]);
      const pick = (side: Record<string, number>, key: string) => side[key] ?? Number.NaN;
      const value = pick(kiln, 'logisticSeconds') + pick(kiln, 'forestSeconds');
      const baseline = pick(sklearn, 'logisticSeconds') + pick(sklearn, 'forestSeconds');
      const logisticGap = Math.abs(pick(kiln, 'logisticAuc') - pick(sklearn, 'logisticAuc'));
      const forestGap = Math.abs(pick(kiln, 'forestAuc') - pick(sklearn, 'forestAuc'));
      const result = benchResult({
        name: 'learn-flights',
        unit: 's',
        value,
        baseline,
        budget: BUDGET,
        details: {
          flights,
          logisticRows: LOGISTIC_TRAIN,
          logisticColumns: LOGISTIC_COLUMNS.length,
          forestRows: FOREST_TRAIN,
          forestTrees: TREES,
          minSamplesLeaf: MIN_SAMPLES_LEAF,
          testRows: TEST,
          kilnLogisticSeconds: round(pick(kiln, 'logisticSeconds')),
          sklearnLogisticSeconds: round(pick(sklearn, 'logisticSeconds')),
          logisticRatio: round(pick(kiln, 'logisticSeconds') / pick(sklearn, 'logisticSeconds')),
          kilnLogisticAuc: round(pick(kiln, 'logisticAuc')),
          sklearnLogisticAuc: round(pick(sklearn, 'logisticAuc')),
          kilnLogisticIterations: pick(kiln, 'logisticIterations'),
          sklearnLogisticIterations: pick(sklearn, 'logisticIterations'),
          kilnForestSeconds: round(pick(kiln, 'forestSeconds')),
          sklearnForestSeconds: round(pick(sklearn, 'forestSeconds')),
          forestRatio: round(pick(kiln, 'forestSeconds') / pick(sklearn, 'forestSeconds')),
          kilnForestAuc: round(pick(kiln, 'forestAuc')),
          sklearnForestAuc: round(pick(sklearn, 'forestAuc')),
          kilnForestNodes: pick(kiln, 'forestNodes'),
          sklearnForestNodes: pick(sklearn, 'forestNodes'),
          aucTolerance: AUC_TOLERANCE,
          kilnPeakRssMb: pick(kiln, 'peakRssMb'),
          sklearnPeakRssMb: pick(sklearn, 'peakRssMb'),
          loadavg: loadavg().map((x) => round(x)),
          machine: describeMachine(),
        },
      });
      return { ...result, pass: result.pass && logisticGap <= AUC_TOLERANCE && forestGap <= AUC_TOLERANCE };
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
};

if (process.argv[2] === 'kiln' && import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  await kilnSide(process.argv[3] as string);
}
