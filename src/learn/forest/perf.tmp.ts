import { readFileSync } from 'node:fs';
import { fitForest } from './fit.js';

const b = readFileSync('/tmp/forest-300k.f64');
const all = new Float64Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
const n = 300000;
const X = { rows: n, cols: 6, data: new Float64Array(n * 6), names: ['a', 'b', 'c', 'd', 'e', 'f'] };
const y = new Float64Array(n);
for (let i = 0; i < n; i++) {
  for (let f = 0; f < 6; f++) X.data[i * 6 + f] = all[i * 7 + f]!;
  y[i] = all[i * 7 + 6]!;
}
const trees = Number(process.argv[2] ?? 5);
const t0 = performance.now();
const m = await fitForest(X, y, {
  task: 'classification',
  nEstimators: trees,
  minSamplesLeaf: 5,
  threads: Number(process.argv[3] ?? 1),
});
console.log(
  'threads',
  process.argv[3],
  'ms/tree',
  (performance.now() - t0) / trees,
  'nodes',
  m.trees[0]!.feature.length,
);
