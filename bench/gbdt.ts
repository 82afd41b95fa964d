import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
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

/** Generates the data with sklearn, writes it for the Kiln side, and times XGBoost on it. */
const XGBOOST = `
import json, sys, time
import numpy as np
import xgboost as xgb
from sklearn.datasets import make_classification
from sklearn.metrics import roc_auc_score
d = sys.argv[1]
X, y = make_classification(n_samples=${ROWS}, n_features=${COLS}, n_informative=15, random_state=0)
X.astype(np.float64).tofile(d + '/X.f64')
y.astype(np.float64).tofile(d + '/y.f64')
n = ${TRAIN}
train = xgb.DMatrix(X[:n], label=y[:n])
start = time.perf_counter()
booster = xgb.train({'objective': 'binary:logistic', 'tree_method': 'hist', 'max_bin': 255, 'max_depth': 6,
                     'eta': 0.1, 'lambda': 1, 'base_score': float(y[:n].mean()), 'nthread': 2}, train, 100)
seconds = time.perf_counter() - start
print(json.dumps({'seconds': seconds, 'auc': roc_auc_score(y[n:], booster.predict(xgb.DMatrix(X[n:])))}))
`;

function run(command: string, args: string[]): Record<string, number> {
  const child = spawnSync(command, args, { cwd: ROOT, encoding: 'utf8', maxBuffer: 1 << 20 });
  if (child.status !== 0) throw new Error(`${command} failed: ${child.stderr}`);
  return JSON.parse(child.stdout.trim().split('\n').at(-1) ?? '{}') as Record<string, number>;
}

/**
 * Histogram GBDT training, 200,000 × 30 (sklearn make_classification, 15 informative), 100 trees,
 * depth 6, learning rate 0.1, 255 bins: Kiln against XGBoost 1.7 `hist` with 2 threads on the same
 * data, each in its own process, alternating rounds.
 */
export const gbdtBenchmark: Benchmark = {
  name: 'gbdt',
  description: 'GBDT training 200k × 30, 100 trees depth 6, vs XGBoost hist nthread=2 (time and AUC)',
  needsBuild: false,
  async run(options: BenchOptions): Promise<BenchResult> {
    const dir = mkdtempSync(join(tmpdir(), 'kiln-bench-gbdt-'));
    try {
      const kiln: Record<string, number>[] = [];
      const xgboost: Record<string, number>[] = [];
      for (let i = 1; i <= options.rounds; i++) {
        progress(`gbdt round ${i}/${options.rounds}`);
        xgboost.push(run('/usr/bin/python3', ['-c', XGBOOST, dir]));
        const args = [
          '--import',
          'tsx',
          join(ROOT, 'bench/clients/gbdt-kiln.ts'),
          dir,
          `${ROWS}`,
          `${COLS}`,
          `${TRAIN}`,
        ];
        kiln.push(run(process.execPath, args));
      }
      const seconds = median(kiln.map((r) => r.seconds ?? Number.NaN));
      const baseline = median(xgboost.map((r) => r.seconds ?? Number.NaN));
      const auc = median(kiln.map((r) => r.auc ?? Number.NaN));
      const xgbAuc = median(xgboost.map((r) => r.auc ?? Number.NaN));
      const result = benchResult({
        name: 'gbdt',
        unit: 's',
        value: seconds,
        baseline,
        budget: BUDGET,
        details: {
          rows: TRAIN,
          columns: COLS,
          kilnSecondsRounds: kiln.map((r) => round(r.seconds ?? 0)),
          xgboostSecondsRounds: xgboost.map((r) => round(r.seconds ?? 0)),
          kilnAuc: round(auc),
          xgboostAuc: round(xgbAuc),
          aucTolerance: AUC_TOLERANCE,
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
