import { Registry } from 'prom-client';
import { silentLogger, systemContext } from './src/core/index.js';
import { frameFromTable, rowsTable } from './src/serving/input.js';
import { ServingRuntime } from './src/serving/runtime/index.js';
import { MemoryModelLoader, MemoryPredictor } from './src/serving/runtime/testing/memory-loader.js';
import { runtimeModels } from './src/serving/runtime/testing/models.js';
import type { PredictionSink } from './src/serving/types.js';
const m = await runtimeModels();
const loader = new MemoryModelLoader();
loader.register('penguins', 1, m.penguinGbdt);
let n = 0; const sink: PredictionSink = { record() { n++; } };
const rt = new ServingRuntime({ loader, metrics: new Registry(), logger: silentLogger(), sink, seed: 1 });
const policy = { extraColumns: 'ignore' as const, maxBatchRows: 100 };
for (const rate of [0, 1]) {
await rt.apply(systemContext('t'), { workspace: 'default', name: 'p', strategy: 'single', targets: [{ model: 'models:/penguins/1', role: 'primary', weight: 0 }], maxQueue: 1000, timeoutMs: 10000, input: policy, logging: { sampleRate: rate } });
const ep = rt.get('default', 'p')!;
const p = new MemoryPredictor(m.penguinGbdt);
const row = [m.penguins[5]!];
const N = 200000;
for (let round = 0; round < 3; round++) {
  let t = performance.now();
  for (let i = 0; i < N; i++) { const tb = rowsTable(row); await p.predict(frameFromTable(p.inputs, tb, policy)); }
  const direct = (performance.now() - t) / N * 1000;
  t = performance.now();
  for (let i = 0; i < N; i++) await ep.infer({ table: rowsTable(row), requestId: 'x', protocol: 'kiln' });
  const viaRt = (performance.now() - t) / N * 1000;
  console.log(`sample ${rate}: direct ${direct.toFixed(2)} µs, runtime ${viaRt.toFixed(2)} µs, overhead ${(viaRt - direct).toFixed(2)} µs`);
}
}
await rt.close();
