/**
 * The `ingest` baseline, run in its own process pinned to core 0 like the server: the same metric
 * rows the load generator sends (same shape, `runs` runs interleaved batch by batch) inserted with
 * raw better-sqlite3 into a table with the columns and primary key of Kiln's `metrics` table
 * (WITHOUT ROWID), one prepared statement, one transaction per 1000-row batch, WAL. Prints one JSON
 * line with rows/s.
 *
 * @example
 * // node --import tsx bench/clients/raw-sqlite-insert.ts '{"file":"/tmp/x.db","shape":"tall","runs":8,"batches":200,"synchronous":"NORMAL"}'
 */
import Database from 'better-sqlite3';

interface Config {
  file: string;
  shape: 'tall' | 'wide';
  runs: number;
  batches: number;
  synchronous: 'NORMAL' | 'FULL';
}

const config = JSON.parse(process.argv[2] ?? '{}') as Config;
const db = new Database(config.file);
db.pragma('journal_mode = WAL');
db.pragma(`synchronous = ${config.synchronous}`);
db.exec(`create table metrics (
  run_id text not null, key text not null, step bigint not null, timestamp bigint not null,
  value double precision not null, is_nan boolean not null,
  constraint metrics_pk primary key (run_id, key, step, timestamp, value, is_nan)) without rowid`);
const insert = db.prepare(
  'insert or ignore into metrics (run_id, key, step, timestamp, value, is_nan) values (?, ?, ?, ?, ?, ?)',
);
type Row = [string, string, number, number, number, number];
const writeBatch = db.transaction((rows: Row[]) => {
  for (const row of rows) insert.run(...row);
});

function batchRows(runId: string, batch: number): Row[] {
  const rows: Row[] = [];
  const timestamp = Date.now();
  if (config.shape === 'tall') {
    for (let k = 0; k < 10; k++) {
      for (let s = 0; s < 100; s++) {
        const step = batch * 100 + s;
        rows.push([runId, `metric_${k}`, step, timestamp, Math.exp(-step / 5000) + Math.random() * 0.01, 0]);
      }
    }
  } else {
    for (let k = 0; k < 1000; k++) rows.push([runId, `feature_${k}`, batch, timestamp, Math.random(), 0]);
  }
  return rows;
}

const runIds = Array.from({ length: config.runs }, (_, i) => `${i.toString(16).padStart(2, '0')}${'f'.repeat(30)}`);
const all: Row[][] = [];
for (let b = 0; b < config.batches; b++) for (const runId of runIds) all.push(batchRows(runId, b));
const start = performance.now();
for (const rows of all) writeBatch(rows);
const seconds = (performance.now() - start) / 1000;
db.close();
process.stdout.write(
  `${JSON.stringify({ rows: all.length * 1000, seconds, rowsPerSec: (all.length * 1000) / seconds })}\n`,
);
