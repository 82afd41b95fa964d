/**
 * Kiln's side of the gbdt benchmark, in its own process: trains on the binary files the XGBoost
 * side wrote (`X.f64`, `y.f64`, row-major doubles) and prints seconds, test AUC and peak RSS.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fitGbdt, type Matrix, predictGbdt, rocAuc } from '../../src/learn/index.js';

const [dir, rowsText, colsText, trainText] = process.argv.slice(2);
const cols = Number(colsText);
const rows = Number(rowsText);
const train = Number(trainText);
const X = new Float64Array(readFileSync(join(dir as string, 'X.f64')).buffer.slice(0));
const y = new Float64Array(readFileSync(join(dir as string, 'y.f64')).buffer.slice(0));
if (X.length !== rows * cols || y.length !== rows) throw new Error('data files do not match the shape');
const names = Array.from({ length: cols }, (_, i) => `x${i}`);
const trainMatrix: Matrix = { rows: train, cols, data: X.subarray(0, train * cols), names };
const testMatrix: Matrix = { rows: rows - train, cols, data: X.subarray(train * cols), names };
const start = performance.now();
const model = fitGbdt(trainMatrix, y.subarray(0, train), {
  objective: 'binary:logistic',
  maxDepth: 6,
  learningRate: 0.1,
  lambda: 1,
  nRounds: 100,
});
const seconds = (performance.now() - start) / 1000;
const labels = Int32Array.from(y.subarray(train));
const auc = rocAuc(labels, predictGbdt(model, testMatrix));
const status = readFileSync('/proc/self/status', 'utf8');
const peakRssMb = Math.round(Number(/^VmHWM:\s+(\d+) kB/m.exec(status)?.[1] ?? 0) / 1024);
process.stdout.write(`${JSON.stringify({ seconds, auc, peakRssMb })}\n`);
