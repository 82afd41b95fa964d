/**
 * Sends the same rows through every request form of the three prediction protocols — Kiln
 * `/predict` (rows and columns), MLflow `/invocations` (dataframe_split, dataframe_records, CSV)
 * and the Open Inference Protocol v2 infer — and answers what each said, so a test can check that
 * they all agree. Works against `kiln server` (`/serve/<deployment>`) and `kiln serve` (the root).
 */
import assert from 'node:assert/strict';
import type { Wire } from './serving-server.js';

/** One HTTP exchange: a JSON body (object) or raw text with its content type in `headers`. */
export type Send = (
  method: 'GET' | 'POST',
  path: string,
  payload: object | string | undefined,
  headers?: Record<string, string>,
) => Promise<{ status: number; text: string }>;

/** What one request form answered. */
export interface ProtocolAnswer {
  labels: string[];
  /** Per row, in the order of `classes` (MLflow's scoring protocol answers labels only). */
  probabilities?: number[][];
  classes?: string[];
  /** The model version that answered, where the protocol says. */
  version?: string;
  model?: string;
}

/** The answers of every request form, by a short name of the form. */
export type ProtocolAnswers = Record<
  'predictRows' | 'predictColumns' | 'invocationsSplit' | 'invocationsRecords' | 'invocationsCsv' | 'oipInfer',
  ProtocolAnswer
>;

async function json(send: Send, method: 'GET' | 'POST', path: string, payload?: object | string, headers = {}) {
  const res = await send(method, path, payload, headers);
  assert.equal(res.status, 200, `${method} ${path} → ${res.status}: ${res.text}`);
  return JSON.parse(res.text) as Wire;
}

function fromPredict(body: Wire): ProtocolAnswer {
  return {
    labels: (body.predictions as unknown[]).map(String),
    probabilities: body.probabilities,
    classes: body.classes,
    version: body.version,
    model: body.model,
  };
}

/** A CSV document of `rows` over `columns`, header first; names with spaces and parentheses are quoted. */
export function csvOf(columns: readonly string[], rows: readonly Record<string, unknown>[]): string {
  const quote = (text: string) => `"${text.replaceAll('"', '""')}"`;
  const lines = [columns.map(quote).join(',')];
  for (const row of rows) lines.push(columns.map((c) => (row[c] === null ? '' : String(row[c]))).join(','));
  return `${lines.join('\n')}\n`;
}

/**
 * Sends `rows` through every request form at `base` (`/serve/<deployment>` or `''`), the OIP
 * model being `model`. Fails the test on any non-200.
 *
 * @example
 * const answers = await answersThroughEveryProtocol(send, '/serve/penguins', 'penguins', rows);
 * answers.oipInfer.labels; // ['Adelie', …]
 */
export async function answersThroughEveryProtocol(
  send: Send,
  base: string,
  model: string,
  rows: readonly Record<string, number>[],
): Promise<ProtocolAnswers> {
  const columns = Object.keys(rows[0] as object);
  const columnar = Object.fromEntries(columns.map((c) => [c, rows.map((r) => r[c])]));
  const predictRows = fromPredict(await json(send, 'POST', `${base}/predict`, { rows }));
  const predictColumns = fromPredict(await json(send, 'POST', `${base}/predict`, { columns: columnar }));
  const split = await json(send, 'POST', `${base}/invocations`, {
    dataframe_split: { columns, data: rows.map((r) => columns.map((c) => r[c])) },
  });
  const records = await json(send, 'POST', `${base}/invocations`, { dataframe_records: rows });
  const csv = await json(send, 'POST', `${base}/invocations`, csvOf(columns, rows), { 'content-type': 'text/csv' });
  // A real OIP client reads the tensor datatypes from the model metadata first.
  const metadata = await json(send, 'GET', `${base}/v2/models/${model}`);
  const inputs = (metadata.inputs as Wire[]).map((input) => ({
    name: input.name,
    shape: [rows.length],
    datatype: input.datatype,
    data: rows.map((r) => r[input.name]),
  }));
  const infer = await json(send, 'POST', `${base}/v2/models/${model}/infer`, { id: 'e2e-1', inputs });
  assert.equal(infer.id, 'e2e-1');
  const outputs = new Map((infer.outputs as Wire[]).map((o) => [o.name as string, o]));
  const prediction = outputs.get('prediction');
  assert.ok(prediction !== undefined, `no prediction output in ${JSON.stringify(infer)}`);
  const oipInfer: ProtocolAnswer = {
    labels: (prediction.data as unknown[]).map(String),
    version: infer.model_version,
    model: infer.model_name,
  };
  const probabilities = outputs.get('probabilities');
  if (probabilities !== undefined) {
    const [n, k] = probabilities.shape as [number, number];
    const flat = probabilities.data as number[];
    oipInfer.probabilities = Array.from({ length: n }, (_, r) => flat.slice(r * k, (r + 1) * k));
  }
  const labels = (body: Wire): ProtocolAnswer => ({ labels: (body.predictions as unknown[]).map(String) });
  return {
    predictRows,
    predictColumns,
    invocationsSplit: labels(split),
    invocationsRecords: labels(records),
    invocationsCsv: labels(csv),
    oipInfer,
  };
}

/**
 * Asserts that every request form answered the same labels, and the forms that carry
 * probabilities the same probabilities (exactly: one model, one set of rows).
 */
export function assertProtocolsAgree(answers: ProtocolAnswers, what: string): void {
  const reference = answers.predictRows;
  for (const [form, answer] of Object.entries(answers)) {
    assert.deepEqual(answer.labels, reference.labels, `${what}: ${form} answered other labels than /predict rows`);
    if (answer.probabilities !== undefined) {
      assert.deepEqual(
        answer.probabilities,
        reference.probabilities,
        `${what}: ${form} answered other probabilities than /predict rows`,
      );
    }
    if (answer.version !== undefined) assert.equal(answer.version, reference.version, `${what}: ${form} version`);
  }
}

/** Largest absolute difference between two equally shaped matrices. */
export function maxAbsDiff(a: readonly (readonly number[])[], b: readonly (readonly number[])[]): number {
  assert.equal(a.length, b.length, 'row counts differ');
  let max = 0;
  a.forEach((row, r) => {
    const other = b[r] as readonly number[];
    assert.equal(row.length, other.length, `row ${r}: column counts differ`);
    row.forEach((v, c) => {
      max = Math.max(max, Math.abs(v - (other[c] as number)));
    });
  });
  return max;
}
