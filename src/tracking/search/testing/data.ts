import type { SearchFixture } from './fixture.js';

/** One run of the execution tests, with everything searches look at. */
interface RunSpec {
  id: string;
  name?: string;
  status: string;
  user: string;
  start: number | null;
  end?: number;
  metrics?: Record<string, number>;
  params?: Record<string, string>;
  tags?: Record<string, string>;
  inputs?: Array<[dataset: string, context: string]>;
}

/**
 * Thirty runs chosen to exercise the edge cases: NaN, ±Infinity, a NaN stored as 0 next to a real
 * 0, missing keys, equal values that need tie-breakers, mixed case, `%` `_` `*` `?` `[` inside
 * values, a quote in a value, keys with spaces, dots and leading digits, a null start time.
 */
export const RUNS: readonly RunSpec[] = [
  {
    id: 'r01',
    name: 'alpha',
    status: 'FINISHED',
    user: 'alice',
    start: 1000,
    end: 1500,
    metrics: { acc: 0.5, loss: 1, 'error rate': 0.3 },
    params: { model: 'lr' },
    tags: { team: 'vision' },
    inputs: [['d1', 'train']],
  },
  {
    id: 'r02',
    name: 'Alpha',
    status: 'FINISHED',
    user: 'bob',
    start: 2000,
    end: 2500,
    metrics: { acc: 0.9, loss: 0.2, 'error rate': 0.1 },
    params: { model: 'LR' },
    tags: { team: 'Vision' },
    inputs: [
      ['d1', 'eval'],
      ['d2', 'train'],
    ],
  },
  {
    id: 'r03',
    name: 'beta',
    status: 'FAILED',
    user: 'alice',
    start: 3000,
    metrics: { acc: Number.NaN, loss: 0.3 },
    params: { model: 'rf', '1st': 'yes' },
    tags: { team: 'nlp' },
    inputs: [['d3', 'train']],
  },
  {
    id: 'r04',
    name: 'gamma',
    status: 'FINISHED',
    user: 'carol',
    start: 4000,
    end: 4500,
    metrics: { acc: Number.POSITIVE_INFINITY },
    params: { model: 'gbt' },
    tags: { team: 'vision-core', 'mlflow.runName': 'gamma' },
  },
  {
    id: 'r05',
    status: 'FINISHED',
    user: 'bob',
    start: 5000,
    metrics: { acc: Number.NEGATIVE_INFINITY },
    params: { model: 'lr' },
  },
  {
    id: 'r06',
    name: 'delta',
    status: 'RUNNING',
    user: 'alice',
    start: 5000,
    params: { model: 'svm' },
    tags: { team: 'VISION' },
  },
  {
    id: 'r07',
    name: 'eps%',
    status: 'FINISHED',
    user: 'dave',
    start: 7000,
    metrics: { acc: 0.9 },
    params: { model: '50%_off' },
    tags: { team: 'a_b' },
  },
  {
    id: 'r08',
    name: 'eps_',
    status: 'KILLED',
    user: 'dave',
    start: 8000,
    metrics: { acc: 0.75 },
    params: { model: '50%off' },
    tags: { team: 'a%b' },
  },
  {
    id: 'r09',
    status: 'FINISHED',
    user: 'erin',
    start: 9000,
    metrics: { acc: 0.1 },
    params: { lr: '0.01' },
    tags: { team: "o'brien" },
  },
  {
    id: 'r10',
    status: 'FINISHED',
    user: 'erin',
    start: null,
    metrics: { acc: 1 },
    params: { lr: '0.1', model: 'x*y' },
  },
  { id: 'r11', status: 'FINISHED', user: 'frank', start: 11000, metrics: { acc: 0 }, params: { model: 'x?y' } },
  { id: 'r12', status: 'FINISHED', user: 'frank', start: 12000, metrics: { acc: -0.5 }, params: { model: '[abc]' } },
  { id: 'r13', status: 'FINISHED', user: 'gina', start: 13000, metrics: { acc: Number.NaN }, params: { model: 'lr' } },
  ...Array.from({ length: 17 }, (_, j): RunSpec => {
    const i = j + 14;
    const spec: RunSpec = {
      id: `r${i}`,
      status: 'FINISHED',
      user: 'bulk',
      start: 100_000 + i,
      metrics: { step: i },
      params: { batch: String(i) },
    };
    if (i === 14) spec.inputs = [['d2', 'test']];
    return spec;
  }),
];

const DATASETS = [
  { dataset_id: 'd1', name: 'iris', digest: 'abc123' },
  { dataset_id: 'd2', name: 'wine', digest: 'DEF456' },
  { dataset_id: 'd3', name: 'iris', digest: 'zzz999' },
];

/** Model versions owned by (name, version): tags on one version must not leak to its siblings. */
const MODEL_VERSIONS = [
  { name: 'm1', version: 1, source: 's3://b/m1/1', run_id: 'r01', creation_timestamp: 10 },
  { name: 'm1', version: 2, source: 'file:///m1/2', run_id: 'r02', creation_timestamp: 20 },
  { name: 'm1', version: 3, source: 's3://b/m1/3', run_id: 'r03', creation_timestamp: 30 },
  { name: 'm2', version: 1, source: 's3://b/m2/1', run_id: 'r01', creation_timestamp: 40 },
  { name: 'm2', version: 2, source: 'gs://b/m2/2', run_id: 'r04', creation_timestamp: 50 },
  { name: 'M1', version: 1, source: 's3://b/M1/1', run_id: 'r05', creation_timestamp: 60 },
];

const MODEL_VERSION_TAGS = [
  { name: 'm1', version: 1, key: 'stage', value: 'prod' },
  { name: 'm1', version: 3, key: 'stage', value: 'prod' },
  { name: 'm2', version: 1, key: 'stage', value: 'Prod' },
  { name: 'm2', version: 2, key: 'stage', value: 'dev' },
];

/** Inserts {@link RUNS}, their datasets and the model versions into a fresh fixture. */
export async function insertSearchData(fixture: SearchFixture): Promise<void> {
  const { db, dialect } = fixture;
  const flag = (nan: boolean): boolean | number => (dialect === 'sqlite' ? Number(nan) : nan);
  await db.insertInto('datasets').values(DATASETS).execute();
  for (const run of RUNS) {
    await db
      .insertInto('runs')
      .values({
        run_id: run.id,
        run_name: run.name ?? null,
        status: run.status,
        user_id: run.user,
        artifact_uri: `file:///artifacts/${run.id}`,
        experiment_id: '1',
        start_time: run.start,
        end_time: run.end === undefined ? null : new Date(run.end).toISOString(),
      })
      .execute();
    const metrics = Object.entries(run.metrics ?? {}).map(([key, value]) => ({
      run_id: run.id,
      key,
      value: Number.isNaN(value) ? 0 : value,
      is_nan: flag(Number.isNaN(value)),
    }));
    if (metrics.length > 0) await db.insertInto('latest_metrics').values(metrics).execute();
    for (const [table, entries] of [
      ['params', run.params],
      ['tags', run.tags],
    ] as const) {
      const rows = Object.entries(entries ?? {}).map(([key, value]) => ({ run_id: run.id, key, value }));
      if (rows.length > 0) await db.insertInto(table).values(rows).execute();
    }
    for (const [dataset, context] of run.inputs ?? []) {
      await db.insertInto('run_inputs').values({ run_id: run.id, dataset_id: dataset, context }).execute();
    }
  }
  await db.insertInto('model_versions').values(MODEL_VERSIONS).execute();
  await db.insertInto('model_version_tags').values(MODEL_VERSION_TAGS).execute();
}
