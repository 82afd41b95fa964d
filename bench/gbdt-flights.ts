/**
 * Histogram GBDT on the real flights-3m (3,000,000 flights): target delay > 15 min; features hour,
 * weekday and month of the departure, distance, origin and destination airports (categorical). Kiln's
 * process reads the Parquet file itself through DuckDB (`readColumns`), trains and scores; XGBoost
 * 1.7 `hist` (2 threads, `enable_categorical`) trains on the same features in the same run. Every
 * fifth flight is held out. This file is also Kiln's side (`node --import tsx bench/gbdt-flights.ts <dir> kiln|prepare`).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { inferSchema, readColumns, withDuckSession } from '../src/data/index.js';
import { fitGbdt, type Matrix, predictGbdt, rocAuc } from '../src/learn/index.js';
import type { Benchmark, BenchOptions } from './lib/benchmark.js';
import { ROOT } from './lib/kiln.js';
import { describeMachine } from './lib/machine.js';
import { type BenchResult, benchResult, median, progress, round } from './lib/result.js';

/** Training may take at most 1.5 × XGBoost, at an AUC within 0.003 of it, in under 4 GB. */
const BUDGET = { max: 1.5 };
const AUC_TOLERANCE = 0.003;
const RSS_BUDGET_MB = 4096;
const FLIGHTS = fileURLToPath(new URL('../node_modules/vega-datasets/data/flights-3m.parquet', import.meta.url));
const FEATURES = ['hour', 'weekday', 'month', 'distance', 'origin', 'destination'];
const CATEGORICAL = [4, 5];
const PARAMS = { rounds: 100, maxDepth: 6, eta: 0.1 };

const PYTHON = `
import json, sys, time
import numpy as np
import xgboost as xgb
from sklearn.metrics import roc_auc_score
d = sys.argv[1]
X = np.fromfile(d + '/X.f64').reshape(-1, ${FEATURES.length})
y = np.fromfile(d + '/y.f64')
test = np.arange(len(y)) % 5 == 0
types = ['q', 'q', 'q', 'q', 'c', 'c']
train = xgb.DMatrix(X[~test], label=y[~test], feature_types=types, enable_categorical=True)
start = time.perf_counter()
booster = xgb.train({'objective': 'binary:logistic', 'tree_method': 'hist', 'max_bin': 255, 'nthread': 2,
                     'max_depth': ${PARAMS.maxDepth}, 'eta': ${PARAMS.eta}, 'base_score': float(y[~test].mean())},
                    train, ${PARAMS.rounds})
seconds = time.perf_counter() - start
pred = booster.predict(xgb.DMatrix(X[test], feature_types=types, enable_categorical=True))
print(json.dumps({'seconds': seconds, 'auc': roc_auc_score(y[test], pred)}))
`;

/** The six features (row-major) and the labels, read from the Parquet file through DuckDB. */
async function loadFlights(): Promise<{ X: Matrix; y: Float64Array }> {
  const relation = `read_parquet('${FLIGHTS.replaceAll("'", "''")}')`;
  const table = await withDuckSession(undefined, async ({ connection }) => {
    const schema = await inferSchema(connection, relation, 3_000_000);
    return readColumns(connection, relation, schema, {
      columns: ['date', 'delay', 'distance', 'origin', 'destination'],
    });
  });
  const [date, delay, distance, origin, destination] = table.columns;
  if (
    date?.kind !== 'datetime' ||
    delay?.kind !== 'float' ||
    distance?.kind !== 'float' ||
    origin?.kind !== 'categorical' ||
    destination?.kind !== 'categorical'
  ) {
    throw new Error('flights-3m columns changed type');
  }
  const rows = table.rows;
  const cols = FEATURES.length;
  const data = new Float64Array(rows * cols);
  const y = new Float64Array(rows);
  for (let r = 0; r < rows; r++) {
    const when = new Date(date.values[r] as number);
    const code = (c: number) => (c < 0 ? Number.NaN : c);
    data.set(
      [
        when.getUTCHours(),
        when.getUTCDay(),
        when.getUTCMonth() + 1,
        distance.values[r] as number,
        code(origin.codes[r] as number),
        code(destination.codes[r] as number),
      ],
      r * cols,
    );
    y[r] = (delay.values[r] as number) > 15 ? 1 : 0;
  }
  return { X: { rows, cols, data, names: FEATURES }, y };
}

/** Rows with `i % 5 === 0` (test) or the others (train). */
function pick(X: Matrix, y: Float64Array, test: boolean): { X: Matrix; y: Float64Array } {
  const count = test ? Math.ceil(X.rows / 5) : X.rows - Math.ceil(X.rows / 5);
  const data = new Float64Array(count * X.cols);
  const labels = new Float64Array(count);
  let k = 0;
  for (let r = 0; r < X.rows; r++) {
    if ((r % 5 === 0) !== test) continue;
    data.set(X.data.subarray(r * X.cols, (r + 1) * X.cols), k * X.cols);
    labels[k++] = y[r] as number;
  }
  return { X: { rows: count, cols: X.cols, data, names: X.names }, y: labels };
}

function peakRssMb(): number {
  const status = readFileSync('/proc/self/status', 'utf8');
  return Math.round(Number(/^VmHWM:\s+(\d+) kB/m.exec(status)?.[1] ?? 0) / 1024);
}

/** `prepare` writes the features for the XGBoost side; `kiln` loads, trains and scores, printing one JSON line. */
async function side(dir: string, mode: string): Promise<void> {
  const loadStart = performance.now();
  const { X, y } = await loadFlights();
  const loadSeconds = (performance.now() - loadStart) / 1000;
  if (mode === 'prepare') {
    writeFileSync(join(dir, 'X.f64'), X.data);
    writeFileSync(join(dir, 'y.f64'), y);
    process.stdout.write(`${JSON.stringify({ rows: X.rows })}\n`);
    return;
  }
  const train = pick(X, y, false);
  const test = pick(X, y, true);
  const start = performance.now();
  const model = await fitGbdt(train.X, train.y, {
    objective: 'binary:logistic',
    nRounds: PARAMS.rounds,
    maxDepth: PARAMS.maxDepth,
    learningRate: PARAMS.eta,
    categoricalFeatures: CATEGORICAL,
  });
  const seconds = (performance.now() - start) / 1000;
  const auc = rocAuc(Int32Array.from(test.y), predictGbdt(model, test.X));
  process.stdout.write(`${JSON.stringify({ loadSeconds, seconds, auc, rows: X.rows, peakRssMb: peakRssMb() })}\n`);
}

function lastJsonLine(command: string, args: string[]): Record<string, number> {
  const child = spawnSync(command, args, { cwd: ROOT, encoding: 'utf8', maxBuffer: 1 << 20 });
  if (child.status !== 0) throw new Error(`${command} failed: ${child.stderr}`);
  return JSON.parse(child.stdout.trim().split('\n').at(-1) ?? '{}') as Record<string, number>;
}

export const gbdtFlightsBenchmark: Benchmark = {
  name: 'gbdt-flights',
  description:
    'GBDT on flights-3m (delay > 15 min; hour, weekday, month, distance, airports): time, AUC, RSS vs XGBoost',
  needsBuild: false,
  async run(options: BenchOptions): Promise<BenchResult> {
    const dir = mkdtempSync(join(tmpdir(), 'kiln-bench-gbdt-flights-'));
    const self = fileURLToPath(import.meta.url);
    try {
      progress('gbdt-flights: reading flights-3m for the XGBoost side');
      lastJsonLine(process.execPath, ['--import', 'tsx', self, dir, 'prepare']);
      const kiln: Record<string, number>[] = [];
      const xgboost: Record<string, number>[] = [];
      for (let i = 1; i <= options.rounds; i++) {
        progress(`gbdt-flights round ${i}/${options.rounds}`);
        xgboost.push(lastJsonLine('/usr/bin/python3', ['-c', PYTHON, dir]));
        kiln.push(lastJsonLine(process.execPath, ['--import', 'tsx', self, dir, 'kiln']));
      }
      const value = (rows: Record<string, number>[], key: string) => median(rows.map((r) => r[key] ?? Number.NaN));
      const auc = value(kiln, 'auc');
      const xgbAuc = value(xgboost, 'auc');
      const peakRss = Math.max(...kiln.map((r) => r.peakRssMb ?? 0));
      const result = benchResult({
        name: 'gbdt-flights',
        unit: 's',
        value: value(kiln, 'seconds'),
        baseline: value(xgboost, 'seconds'),
        budget: BUDGET,
        details: {
          rows: kiln[0]?.rows,
          features: FEATURES,
          categorical: CATEGORICAL.map((f) => FEATURES[f]),
          params: PARAMS,
          kilnSecondsRounds: kiln.map((r) => round(r.seconds ?? 0)),
          xgboostSecondsRounds: xgboost.map((r) => round(r.seconds ?? 0)),
          kilnLoadSeconds: round(value(kiln, 'loadSeconds')),
          kilnAuc: round(auc),
          xgboostAuc: round(xgbAuc),
          aucTolerance: AUC_TOLERANCE,
          kilnPeakRssMb: peakRss,
          rssBudgetMb: RSS_BUDGET_MB,
          loadavg: loadavg().map((x) => round(x)),
          machine: describeMachine(),
        },
      });
      return { ...result, pass: result.pass && Math.abs(auc - xgbAuc) <= AUC_TOLERANCE && peakRss < RSS_BUDGET_MB };
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
};

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await side(process.argv[2] as string, process.argv[3] as string);
}
