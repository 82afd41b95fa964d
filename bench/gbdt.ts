/**
 * Histogram GBDT, 200,000 × 30 (sklearn make_classification, 15 informative), 100 trees, depth 6,
 * learning rate 0.1, 255 bins: Kiln against XGBoost 1.7 `hist` with 2 threads and sklearn's
 * HistGradientBoostingClassifier on the same data in the same run, plus prediction latency for 1 row
 * and 10,000 rows against XGBoost's `inplace_predict`. Each side runs in its own process; this file
 * is also Kiln's side (`node --import tsx bench/gbdt.ts <dir>`).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { fitGbdt, type Matrix, predictGbdt, rocAuc } from '../src/learn/index.js';
import type { Benchmark, BenchOptions } from './lib/benchmark.js';
import { ROOT } from './lib/kiln.js';
import { describeMachine } from './lib/machine.js';
import { type BenchResult, benchResult, median, progress, round } from './lib/result.js';

/** Training may take at most 1.5 × XGBoost `hist` on 2 threads, at a test AUC within 0.003. */
const BUDGET = { max: 1.5 };
const AUC_TOLERANCE = 0.003;
const ROWS = 250_000;
const TRAIN = 200_000;
const COLS = 30;
/** Single-row predictions timed (median per call) and 10,000-row predictions timed (median). */
const SINGLE_CALLS = 500;
const BATCH_ROWS = 10_000;
const BATCH_CALLS = 10;

/** Generates the data once (argv[2] = 1), then times XGBoost and sklearn on it. */
const PYTHON = `
import json, sys, time
import numpy as np
import xgboost as xgb
from sklearn.datasets import make_classification
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.metrics import roc_auc_score
d, generate = sys.argv[1], sys.argv[2] == '1'
if generate:
    X, y = make_classification(n_samples=${ROWS}, n_features=${COLS}, n_informative=15, random_state=0)
    X.astype(np.float64).tofile(d + '/X.f64')
    y.astype(np.float64).tofile(d + '/y.f64')
X = np.fromfile(d + '/X.f64').reshape(${ROWS}, ${COLS})
y = np.fromfile(d + '/y.f64')
n = ${TRAIN}
train = xgb.DMatrix(X[:n], label=y[:n])
start = time.perf_counter()
booster = xgb.train({'objective': 'binary:logistic', 'tree_method': 'hist', 'max_bin': 255, 'max_depth': 6,
                     'eta': 0.1, 'lambda': 1, 'base_score': float(y[:n].mean()), 'nthread': 2}, train, 100)
seconds = time.perf_counter() - start
auc = roc_auc_score(y[n:], booster.predict(xgb.DMatrix(X[n:])))
def per_call(fn, calls):
    times = []
    for i in range(calls):
        t = time.perf_counter(); fn(i); times.append(time.perf_counter() - t)
    return float(np.median(times))
single = per_call(lambda i: booster.inplace_predict(X[n + i:n + i + 1]), ${SINGLE_CALLS})
batch = per_call(lambda i: booster.inplace_predict(X[n:n + ${BATCH_ROWS}]), ${BATCH_CALLS})
hgb = HistGradientBoostingClassifier(learning_rate=0.1, max_iter=100, max_depth=6, max_leaf_nodes=None,
                                     l2_regularization=1.0, max_bins=255, early_stopping=False, random_state=0)
start = time.perf_counter()
hgb.fit(X[:n], y[:n])
sk_seconds = time.perf_counter() - start
sk_auc = roc_auc_score(y[n:], hgb.predict_proba(X[n:])[:, 1])
print(json.dumps({'seconds': seconds, 'auc': auc, 'singleMs': single * 1e3, 'batchMs': batch * 1e3,
                  'sklearnSeconds': sk_seconds, 'sklearnAuc': sk_auc}))
`;

function lastJsonLine(command: string, args: string[], env?: NodeJS.ProcessEnv): Record<string, number> {
  const child = spawnSync(command, args, { cwd: ROOT, encoding: 'utf8', maxBuffer: 1 << 20, env });
  if (child.status !== 0) throw new Error(`${command} failed: ${child.stderr}`);
  return JSON.parse(child.stdout.trim().split('\n').at(-1) ?? '{}') as Record<string, number>;
}

/** Median wall time of `calls` calls of `fn(i)`, in ms. */
function perCallMs(fn: (i: number) => unknown, calls: number): number {
  const times: number[] = [];
  for (let i = 0; i < calls; i++) {
    const start = performance.now();
    fn(i);
    times.push(performance.now() - start);
  }
  return median(times);
}

/** Kiln's side: trains on the files the Python side wrote and prints seconds, AUC, latencies and peak RSS. */
async function kilnSide(dir: string): Promise<void> {
  const X = new Float64Array(readFileSync(join(dir, 'X.f64')).buffer.slice(0));
  const y = new Float64Array(readFileSync(join(dir, 'y.f64')).buffer.slice(0));
  if (X.length !== ROWS * COLS || y.length !== ROWS) throw new Error('data files do not match the shape');
  const names = Array.from({ length: COLS }, (_, i) => `x${i}`);
  const rows = (from: number, count: number): Matrix => ({
    rows: count,
    cols: COLS,
    data: X.subarray(from * COLS, (from + count) * COLS),
    names,
  });
  const start = performance.now();
  const model = await fitGbdt(rows(0, TRAIN), y.subarray(0, TRAIN), {
    objective: 'binary:logistic',
    maxDepth: 6,
    learningRate: 0.1,
    lambda: 1,
    nRounds: 100,
  });
  const seconds = (performance.now() - start) / 1000;
  const auc = rocAuc(Int32Array.from(y.subarray(TRAIN)), predictGbdt(model, rows(TRAIN, ROWS - TRAIN)));
  const singleMs = perCallMs((i) => predictGbdt(model, rows(TRAIN + i, 1)), SINGLE_CALLS);
  const batchMs = perCallMs(() => predictGbdt(model, rows(TRAIN, BATCH_ROWS)), BATCH_CALLS);
  const status = readFileSync('/proc/self/status', 'utf8');
  const peakRssMb = Math.round(Number(/^VmHWM:\s+(\d+) kB/m.exec(status)?.[1] ?? 0) / 1024);
  process.stdout.write(`${JSON.stringify({ seconds, auc, singleMs, batchMs, peakRssMb })}\n`);
}

export const gbdtBenchmark: Benchmark = {
  name: 'gbdt',
  description: 'GBDT 200k × 30, 100 trees depth 6: train time/AUC vs XGBoost hist nthread=2 and sklearn HGB; predict',
  needsBuild: false,
  async run(options: BenchOptions): Promise<BenchResult> {
    const dir = mkdtempSync(join(tmpdir(), 'kiln-bench-gbdt-'));
    try {
      const kiln: Record<string, number>[] = [];
      const python: Record<string, number>[] = [];
      const env = { ...process.env, OMP_NUM_THREADS: '2' };
      for (let i = 1; i <= options.rounds; i++) {
        progress(`gbdt round ${i}/${options.rounds}`);
        python.push(lastJsonLine('/usr/bin/python3', ['-c', PYTHON, dir, i === 1 ? '1' : '0'], env));
        kiln.push(lastJsonLine(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url), dir]));
      }
      const pick = (rows: Record<string, number>[], key: string) => median(rows.map((r) => r[key] ?? Number.NaN));
      const seconds = pick(kiln, 'seconds');
      const auc = pick(kiln, 'auc');
      const xgbAuc = pick(python, 'auc');
      const result = benchResult({
        name: 'gbdt',
        unit: 's',
        value: seconds,
        baseline: pick(python, 'seconds'),
        budget: BUDGET,
        details: {
          rows: TRAIN,
          columns: COLS,
          kilnSecondsRounds: kiln.map((r) => round(r.seconds ?? 0)),
          xgboostSecondsRounds: python.map((r) => round(r.seconds ?? 0)),
          kilnAuc: round(auc),
          xgboostAuc: round(xgbAuc),
          aucTolerance: AUC_TOLERANCE,
          sklearnSeconds: round(pick(python, 'sklearnSeconds')),
          sklearnAuc: round(pick(python, 'sklearnAuc')),
          ratioToSklearn: round(seconds / pick(python, 'sklearnSeconds')),
          predictOneRowMs: { kiln: round(pick(kiln, 'singleMs')), xgboost: round(pick(python, 'singleMs')) },
          predictOneRowRatio: round(pick(kiln, 'singleMs') / pick(python, 'singleMs')),
          predict10kRowsMs: { kiln: round(pick(kiln, 'batchMs')), xgboost: round(pick(python, 'batchMs')) },
          predict10kRowsRatio: round(pick(kiln, 'batchMs') / pick(python, 'batchMs')),
          kilnPeakRssMb: Math.max(...kiln.map((r) => r.peakRssMb ?? 0)),
          loadavg: loadavg().map((x) => round(x)),
          machine: describeMachine(),
        },
      });
      return { ...result, pass: result.pass && Math.abs(auc - xgbAuc) <= AUC_TOLERANCE };
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
};

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await kilnSide(process.argv[2] as string);
}
