import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Registry } from 'prom-client';
import { KilnError, silentLogger, systemContext } from '../../core/index.js';
import type {
  DeploymentSpec,
  DeploymentTarget,
  InferenceResult,
  PredictionRecord,
  PredictionSink,
  ServedEndpoint,
} from '../types.js';
import { ServingRuntime } from './runtime.js';
import { ManualAliasEvents, MemoryModelLoader } from './testing/memory-loader.js';
import { directPenguins, directSeattle, type RuntimeModels, requestOf, runtimeModels } from './testing/models.js';

const ctx = systemContext('runtime-test');

function specOf(
  name: string,
  strategy: DeploymentSpec['strategy'],
  targets: DeploymentTarget[],
  extra: Partial<DeploymentSpec> = {},
): DeploymentSpec {
  return {
    workspace: 'default',
    name,
    strategy,
    targets,
    maxQueue: 1000,
    timeoutMs: 10_000,
    input: { extraColumns: 'ignore', maxBatchRows: 10_000 },
    logging: { sampleRate: 1 },
    ...extra,
  };
}

const primary = (model: string): DeploymentTarget => ({ model, role: 'primary', weight: 0 });

class MemorySink implements PredictionSink {
  readonly records: PredictionRecord[] = [];
  record(entry: PredictionRecord): void {
    this.records.push(entry);
  }
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Polls `check` until it holds (or fails the test after `ms`). */
async function eventually(what: string, check: () => boolean, ms = 10_000): Promise<void> {
  const until = performance.now() + ms;
  while (!check()) {
    if (performance.now() > until) assert.fail(`timed out waiting until ${what}`);
    await sleep(5);
  }
}

function rejectsWith(promise: Promise<unknown>, code: string, status: number): Promise<KilnError> {
  return promise.then(
    () => assert.fail(`expected ${code}`),
    (err: unknown) => {
      assert.ok(err instanceof KilnError, String(err));
      assert.equal(err.code, code, err.message);
      assert.equal(err.status, status);
      return err;
    },
  );
}

/** The value of one sample: `name` is the metric's, or a histogram's `_count` / `_sum` sample. */
async function metricValue(registry: Registry, name: string, labels: Record<string, string>): Promise<number> {
  const all = await registry.getMetricsAsJSON();
  const metric = all.find((m) => m.name === name) ?? all.find((m) => name.startsWith(`${m.name}_`));
  type Sample = { labels: Record<string, unknown>; value: number; metricName?: string };
  const value = (metric?.values as Sample[] | undefined)?.find(
    (v) =>
      (v.metricName ?? metric?.name) === name &&
      Object.entries(labels).every(([k, want]) => String(v.labels[k]) === want),
  );
  return value?.value ?? 0;
}

describe('ServingRuntime', () => {
  let models: RuntimeModels;
  let loader: MemoryModelLoader;
  let registry: Registry;
  let sink: MemorySink;
  let aliases: ManualAliasEvents;
  let runtime: ServingRuntime;

  before(async () => {
    models = await runtimeModels();
  });

  const fresh = () => {
    loader = new MemoryModelLoader();
    loader.register('penguins', 1, models.penguinGbdt);
    loader.register('penguins', 2, models.penguinLogistic);
    loader.register('penguins', 3, models.penguinGbdt);
    loader.register('weather', 1, models.seattleGbdt);
    loader.register('weather', 2, models.seattleLinear);
    registry = new Registry();
    sink = new MemorySink();
    aliases = new ManualAliasEvents();
    runtime = new ServingRuntime({ loader, metrics: registry, sink, logger: silentLogger(), aliases, seed: 42 });
    return runtime;
  };

  after(async () => {
    await runtime?.close();
  });

  const endpointOf = (name: string): ServedEndpoint => {
    const endpoint = runtime.get('default', name);
    assert.ok(endpoint, `deployment ${name} is served`);
    return endpoint;
  };

  const row = (i: number) => [models.penguins[i % models.penguins.length] as Record<string, unknown>];

  describe('routing', () => {
    before(fresh);

    it('sends a canary its weight of 10,000 requests within ±3 %, by random draw and by routing key', async () => {
      await runtime.apply(
        ctx,
        specOf('canary', 'canary', [
          primary('models:/penguins/1'),
          { model: 'models:/penguins/2', role: 'canary', weight: 20 },
        ]),
      );
      const endpoint = endpointOf('canary');
      for (const keyed of [false, true]) {
        const versions = new Map<string, number>();
        for (let i = 0; i < 10_000; i++) {
          const result = await endpoint.infer(requestOf(row(i), `r${i}`, keyed ? `user-${i}` : undefined));
          versions.set(result.version, (versions.get(result.version) ?? 0) + 1);
        }
        const canaryShare = (versions.get('2') ?? 0) / 10_000;
        assert.ok(Math.abs(canaryShare - 0.2) <= 0.03, `canary share ${canaryShare} (keyed: ${keyed})`);
        assert.equal((versions.get('1') ?? 0) + (versions.get('2') ?? 0), 10_000);
      }
      const status = runtime.status('default', 'canary');
      assert.deepEqual(
        status?.targets.map((t) => [t.role, t.version, t.weight]),
        [
          ['primary', '1', 0],
          ['canary', '2', 20],
        ],
      );
      assert.equal((status?.targets[0]?.requests ?? 0) + (status?.targets[1]?.requests ?? 0), 20_000);
    });

    it('routes the same key to the same version every time, and keeps canary keys there as the weight grows', async () => {
      const endpoint = endpointOf('canary');
      const first = new Map<string, string>();
      for (let round = 0; round < 5; round++) {
        for (let k = 0; k < 300; k++) {
          const result = await endpoint.infer(requestOf(row(k), `s${round}-${k}`, `customer-${k}`));
          const seen = first.get(`customer-${k}`);
          if (seen === undefined) first.set(`customer-${k}`, result.version);
          else assert.equal(result.version, seen, `customer-${k} moved in round ${round}`);
        }
      }
      await runtime.apply(
        ctx,
        specOf('canary', 'canary', [
          primary('models:/penguins/1'),
          { model: 'models:/penguins/2', role: 'canary', weight: 50 },
        ]),
      );
      let moved = 0;
      for (let k = 0; k < 300; k++) {
        const result = await endpoint.infer(requestOf(row(k), `w${k}`, `customer-${k}`));
        if (first.get(`customer-${k}`) === '2') assert.equal(result.version, '2', `customer-${k} left the canary`);
        else if (result.version === '2') moved++;
      }
      assert.ok(moved > 0, 'a larger canary takes some primary keys');
      // The weight change kept both loaded models: nothing was loaded again.
      assert.equal(loader.predictors.length, 2);
    });

    it('splits A/B variants by weight and lists them as the models answering', async () => {
      await runtime.apply(
        ctx,
        specOf('ab', 'ab', [
          { model: 'models:/penguins/1', role: 'variant', weight: 50 },
          { model: 'models:/penguins/2', role: 'variant', weight: 30 },
          { model: 'models:/penguins/3', role: 'variant', weight: 20 },
        ]),
      );
      const endpoint = endpointOf('ab');
      assert.deepEqual(
        endpoint.models().map((m) => [m.version, m.role, m.ready]),
        [
          ['1', 'variant', true],
          ['2', 'variant', true],
          ['3', 'variant', true],
        ],
      );
      const counts = new Map<string, number>();
      for (let i = 0; i < 10_000; i++) {
        const result = await endpoint.infer(requestOf(row(i), `ab${i}`));
        counts.set(result.version, (counts.get(result.version) ?? 0) + 1);
      }
      for (const [version, share] of [
        ['1', 0.5],
        ['2', 0.3],
        ['3', 0.2],
      ] as const) {
        const got = (counts.get(version) ?? 0) / 10_000;
        assert.ok(Math.abs(got - share) <= 0.03, `variant ${version}: ${got} for ${share}`);
      }
    });

    it('answers with the model that was routed to, exactly as predicting with it directly', async () => {
      const endpoint = endpointOf('ab');
      const rows = models.penguins.slice(0, 40);
      const byVersion: Record<string, RuntimeModels['penguinGbdt']> = {
        '1': models.penguinGbdt,
        '2': models.penguinLogistic,
        '3': models.penguinGbdt,
      };
      for (let i = 0; i < 30; i++) {
        const result = await endpoint.infer(requestOf(rows, `x${i}`));
        const direct = directPenguins(byVersion[result.version] as RuntimeModels['penguinGbdt'], rows);
        assert.deepEqual(result.prediction, direct.prediction);
        assert.deepEqual(result.probabilities, direct.probabilities);
        assert.deepEqual(result.classes, ['Adelie', 'Chinstrap', 'Gentoo']);
        assert.equal(result.task, 'multiclass');
      }
    });

    it('refuses bad input with a 400 naming the field, counted as invalid and not as a model error', async () => {
      const endpoint = endpointOf('canary');
      const bad = [{ ...models.penguins[0], 'Beak Depth (mm)': 'deep' }];
      const err = await rejectsWith(endpoint.infer(requestOf(bad, 'bad-1')), 'INVALID_PARAMETER_VALUE', 400);
      assert.match(err.message, /rows\[0\]\["Beak Depth \(mm\)"\]/);
      const invalid =
        (await metricValue(registry, 'kiln_serving_requests_total', { deployment: 'canary', outcome: 'invalid' })) + 0;
      assert.equal(invalid, 1);
      assert.ok(runtime.status('default', 'canary')?.targets.every((t) => t.errors === 0));
    });

    it('refuses a spec whose targets do not fit its strategy, naming the field', async () => {
      await rejectsWith(
        runtime.apply(ctx, specOf('bad', 'canary', [primary('models:/penguins/1')])),
        'INVALID_PARAMETER_VALUE',
        400,
      );
      const err = await rejectsWith(
        runtime.apply(
          ctx,
          specOf('bad', 'ab', [
            { model: 'models:/penguins/1', role: 'variant', weight: 50 },
            { model: 'models:/penguins/2', role: 'variant', weight: 40 },
          ]),
        ),
        'INVALID_PARAMETER_VALUE',
        400,
      );
      assert.match(err.message, /sum to 100/);
      await rejectsWith(
        runtime.apply(ctx, specOf('bad', 'single', [primary('models:/penguins')])),
        'INVALID_PARAMETER_VALUE',
        400,
      );
      assert.equal(runtime.get('default', 'bad'), undefined);
    });

    it('logs every answer with its request id at sample rate 1, none at 0, about a quarter at 0.25', async () => {
      sink.records.length = 0;
      await runtime.apply(ctx, specOf('logged', 'single', [primary('models:/penguins/1')]));
      const endpoint = endpointOf('logged');
      const rows = models.penguins.slice(10, 12);
      const answer = await endpoint.infer(requestOf(rows, 'req-logged'));
      assert.equal(sink.records.length, 1);
      const record = sink.records[0] as PredictionRecord;
      assert.equal(record.requestId, 'req-logged');
      assert.equal(record.role, 'primary');
      assert.equal(record.deployment, 'logged');
      assert.equal(record.version, '1');
      assert.deepEqual(record.outputs.prediction, answer.prediction);
      assert.deepEqual(record.outputs.probabilities?.[1], Array.from(answer.probabilities?.subarray(3, 6) ?? []));
      assert.deepEqual(record.inputs['Island'], ['Torgersen', 'Torgersen']);
      for (const [rate, low, high] of [
        [0, 0, 0],
        [0.25, 400, 600],
      ] as const) {
        sink.records.length = 0;
        await runtime.apply(
          ctx,
          specOf('logged', 'single', [primary('models:/penguins/1')], { logging: { sampleRate: rate } }),
        );
        for (let i = 0; i < 2000; i++) await endpoint.infer(requestOf(row(i), `l${i}`));
        assert.ok(sink.records.length >= low && sink.records.length <= high, `${sink.records.length} at ${rate}`);
      }
    });

    it('exposes the serving series on the Prometheus registry', async () => {
      const text = await registry.metrics();
      assert.match(
        text,
        /kiln_serving_requests_total\{workspace="default",deployment="canary",version="2",role="canary",protocol="kiln",outcome="success"\} \d+/,
      );
      assert.match(text, /kiln_serving_request_duration_seconds_bucket\{[^}]*deployment="ab"[^}]*le="0.00025"\}/);
      assert.match(text, /kiln_serving_batch_size_count\{workspace="default",deployment="ab",version="1"\} \d+/);
      assert.match(text, /kiln_serving_in_flight\{workspace="default",deployment="canary",version="1"\} 0/);
      assert.match(text, /kiln_serving_queue_depth\{/);
      assert.match(text, /kiln_serving_predictions_dropped_total 0/);
    });

    it('removes a deployment: it is no longer found and its models are closed', async () => {
      await runtime.remove('default', 'ab');
      assert.equal(runtime.get('default', 'ab'), undefined);
      assert.equal(runtime.status('default', 'ab'), undefined);
      assert.ok(!runtime.list('default').some((e) => e.name === 'ab'));
      assert.ok(loader.loadedFor('penguins', 3).every((p) => p.closed));
    });
  });

  describe('shadow', () => {
    before(fresh);

    it('never changes the answer, and reports label agreement and probability differences', async () => {
      await runtime.apply(ctx, specOf('plain', 'single', [primary('models:/penguins/1')]));
      await runtime.apply(
        ctx,
        specOf('shadowed', 'shadow', [
          primary('models:/penguins/1'),
          { model: 'models:/penguins/2', role: 'shadow', weight: 100 },
        ]),
      );
      const plain = endpointOf('plain');
      const shadowed = endpointOf('shadowed');
      const n = models.penguins.length;
      for (let i = 0; i < n; i++) {
        const a = await plain.infer(requestOf(row(i), `p${i}`));
        const b = await shadowed.infer(requestOf(row(i), `s${i}`));
        assert.deepEqual(b, a);
      }
      await eventually('every request was mirrored', () => {
        return runtime.shadowReport('default', 'shadowed')?.comparisons[0]?.mirrored === n;
      });
      const all = models.penguins;
      const p = directPenguins(models.penguinGbdt, all);
      const q = directPenguins(models.penguinLogistic, all);
      let agree = 0;
      let sum = 0;
      let max = 0;
      for (let r = 0; r < n; r++) if (p.prediction[r] === q.prediction[r]) agree++;
      const pp = p.probabilities as Float64Array;
      const qq = q.probabilities as Float64Array;
      for (let i = 0; i < pp.length; i++) {
        const d = Math.abs((pp[i] as number) - (qq[i] as number));
        sum += d;
        max = Math.max(max, d);
      }
      const report = runtime.shadowReport('default', 'shadowed');
      assert.ok(report);
      assert.equal(report.deployment, 'shadowed');
      assert.ok(!Number.isNaN(Date.parse(report.since)));
      const comparison = report.comparisons[0];
      assert.ok(comparison);
      assert.equal(comparison.shadow, 'models:/penguins/2');
      assert.equal(comparison.shadowVersion, '2');
      assert.equal(comparison.shadowErrors, 0);
      assert.ok(agree < n, 'the challenger disagrees somewhere, so the figure is informative');
      assert.equal(comparison.labelAgreement, agree / n);
      assert.ok(Math.abs((comparison.meanAbsDiff ?? Number.NaN) - sum / pp.length) < 1e-12);
      assert.equal(comparison.maxAbsDiff, max);
      assert.ok(comparison.shadowLatencyMs.p99 >= comparison.shadowLatencyMs.p50);
      const shadowRecords = sink.records.filter((r) => r.deployment === 'shadowed' && r.role === 'shadow');
      assert.equal(shadowRecords.length, n);
      const primaryIds = new Set(
        sink.records.filter((r) => r.deployment === 'shadowed' && r.role === 'primary').map((r) => r.requestId),
      );
      assert.ok(shadowRecords.every((r) => primaryIds.has(r.requestId) && r.version === '2'));
    });

    it('compares a regression challenger by mean and max absolute difference', async () => {
      await runtime.apply(
        ctx,
        specOf('weather', 'single', [
          primary('models:/weather/1'),
          { model: 'models:/weather/2', role: 'shadow', weight: 100 },
        ]),
      );
      const endpoint = endpointOf('weather');
      const rows = models.seattle.slice(0, 200);
      for (let i = 0; i < rows.length; i += 20) {
        const answer = await endpoint.infer(requestOf(rows.slice(i, i + 20), `w${i}`));
        assert.deepEqual(answer.prediction, directSeattle(models.seattleGbdt, rows.slice(i, i + 20)).prediction);
      }
      await eventually('mirrored', () => runtime.shadowReport('default', 'weather')?.comparisons[0]?.mirrored === 10);
      const a = directSeattle(models.seattleGbdt, rows).prediction as Float64Array;
      const b = directSeattle(models.seattleLinear, rows).prediction as Float64Array;
      const diffs = Array.from(a, (v, i) => Math.abs(v - (b[i] as number)));
      const comparison = runtime.shadowReport('default', 'weather')?.comparisons[0];
      assert.ok(comparison);
      assert.equal(comparison.labelAgreement, undefined);
      assert.ok(Math.abs((comparison.meanAbsDiff ?? 0) - diffs.reduce((s, d) => s + d, 0) / diffs.length) < 1e-9);
      assert.ok(Math.abs((comparison.maxAbsDiff ?? 0) - Math.max(...diffs)) < 1e-12);
    });

    it('contains a throwing shadow: the primary answers, the failures are counted, logged and reported', async () => {
      loader.register('penguins', 9, models.penguinLogistic);
      await runtime.apply(
        ctx,
        specOf('risky', 'shadow', [
          primary('models:/penguins/1'),
          { model: 'models:/penguins/9', role: 'shadow', weight: 100 },
        ]),
      );
      const challenger = loader.loadedFor('penguins', 9)[0];
      assert.ok(challenger);
      challenger.behaviour = { fail: 'challenger exploded' };
      const endpoint = endpointOf('risky');
      for (let i = 0; i < 50; i++) {
        const answer = await endpoint.infer(requestOf(row(i), `risky-${i}`));
        assert.deepEqual(answer.prediction, directPenguins(models.penguinGbdt, row(i)).prediction);
        assert.equal(answer.version, '1');
      }
      await eventually('mirrored', () => runtime.shadowReport('default', 'risky')?.comparisons[0]?.mirrored === 50);
      const comparison = runtime.shadowReport('default', 'risky')?.comparisons[0];
      assert.equal(comparison?.shadowErrors, 50);
      assert.equal(comparison?.labelAgreement, undefined);
      const status = runtime.status('default', 'risky');
      assert.deepEqual(
        status?.targets.map((t) => [t.role, t.requests, t.errors]),
        [
          ['primary', 50, 0],
          ['shadow', 0, 50],
        ],
      );
      const failed = sink.records.filter((r) => r.deployment === 'risky' && r.role === 'shadow');
      assert.equal(failed.length, 50);
      assert.ok(failed.every((r) => r.error === 'challenger exploded'));
      assert.equal(
        await metricValue(registry, 'kiln_serving_requests_total', {
          deployment: 'risky',
          role: 'shadow',
          outcome: 'error',
        }),
        50,
      );
    });

    it('mirrors only its weight of the traffic, the same requests for the same keys', async () => {
      await runtime.apply(
        ctx,
        specOf('partial', 'shadow', [
          primary('models:/penguins/1'),
          { model: 'models:/penguins/2', role: 'shadow', weight: 30 },
        ]),
      );
      const endpoint = endpointOf('partial');
      for (let i = 0; i < 2000; i++) await endpoint.infer(requestOf(row(i), `pt${i}`, `key-${i % 500}`));
      // Mirrors enter the shadow's slot when they are scheduled, so in-flight 0 means all have run.
      await eventually('the mirrors ran', () => runtime.status('default', 'partial')?.targets[1]?.inFlight === 0);
      const mirrored = runtime.shadowReport('default', 'partial')?.comparisons[0]?.mirrored ?? 0;
      // 500 keys, each seen 4 times: mirroring is per key, so the count is a multiple of 4.
      assert.equal(mirrored % 4, 0);
      assert.ok(mirrored >= 400 && mirrored <= 800, `mirrored ${mirrored} of 2000 at 30 %`);
    });
  });

  describe('changes and alias moves', () => {
    before(fresh);

    it('switches versions atomically when the followed alias moves under load: no request fails, the old one drains', async () => {
      loader.setAlias('penguins', 'champion', 1);
      await runtime.apply(ctx, specOf('champion', 'single', [primary('models:/penguins@champion')]));
      const endpoint = endpointOf('champion');
      const old = loader.loadedFor('penguins', 1)[0];
      assert.ok(old);
      old.behaviour = { delayMs: 2 };
      let stop = false;
      let failures = 0;
      const seen: string[] = [];
      const client = async (c: number) => {
        for (let i = 0; !stop; i++) {
          try {
            const answer = await endpoint.infer(requestOf(row(c * 1000 + i), `c${c}-${i}`));
            seen.push(answer.version);
          } catch {
            failures++;
          }
          // A model that answers without I/O resolves in microtasks; yield so timers run.
          await new Promise<void>((resolve) => setImmediate(resolve));
        }
      };
      const clients = Array.from({ length: 16 }, (_, c) => client(c));
      await eventually('traffic flows', () => seen.length > 200);
      // An alias the deployment does not follow changes nothing.
      aliases.emit({ workspace: 'default', name: 'penguins', alias: 'challenger' });
      aliases.emit({ workspace: 'other', name: 'penguins', alias: 'champion' });
      loader.setAlias('penguins', 'champion', 2);
      aliases.emit({ workspace: 'default', name: 'penguins', alias: 'champion' });
      await eventually('the new version answers', () => seen.includes('2'));
      const switchedAt = seen.length;
      await eventually('more traffic after the switch', () => seen.length > switchedAt + 300);
      await eventually('the old version is closed', () => old.closed);
      stop = true;
      await Promise.all(clients);
      assert.equal(failures, 0);
      assert.equal(old.afterClose, 0, 'no request reached the old model after it closed');
      assert.equal(old.running, 0);
      assert.ok(
        seen.slice(switchedAt + 64).every((v) => v === '2'),
        'after the switch only the new version answers',
      );
      assert.equal(loader.predictors.length, 2, 'one load per version');
      assert.equal(runtime.status('default', 'champion')?.targets[0]?.version, '2');
      assert.equal(runtime.status('default', 'champion')?.targets[0]?.model, 'models:/penguins@champion');
    });

    it('keeps the old version serving when a change fails to load, and says which target failed', async () => {
      await runtime.apply(ctx, specOf('steady', 'single', [primary('models:/penguins/1')]));
      const endpoint = endpointOf('steady');
      loader.failLoads('penguins', 3, new Error('learner.json: unexpected end of JSON input'));
      const loadsBefore = loader.loadedFor('penguins', 2).length;
      const err = await rejectsWith(
        runtime.apply(
          ctx,
          specOf('steady', 'canary', [
            primary('models:/penguins/2'),
            { model: 'models:/penguins/3', role: 'canary', weight: 50 },
          ]),
        ),
        'INVALID_PARAMETER_VALUE',
        400,
      );
      assert.match(err.message, /targets\[1\]\.model: models:\/penguins\/3 could not be loaded/);
      assert.equal(err.details?.field, 'targets[1].model');
      // The version that did load for the failed change was closed again.
      assert.equal(loader.loadedFor('penguins', 2).length, loadsBefore + 1);
      assert.equal(loader.loadedFor('penguins', 2).at(-1)?.closed, true);
      for (let i = 0; i < 20; i++) assert.equal((await endpoint.infer(requestOf(row(i), `st${i}`))).version, '1');
      assert.equal(runtime.status('default', 'steady')?.targets.length, 1);
      await rejectsWith(
        runtime.apply(ctx, specOf('steady', 'single', [primary('models:/nothing/1')])),
        'RESOURCE_DOES_NOT_EXIST',
        404,
      );
      loader.register('penguins', 8, models.penguinGbdt, { fail: 'leaf value is NaN' });
      const warm = await rejectsWith(
        runtime.apply(ctx, specOf('steady', 'single', [primary('models:/penguins/8')])),
        'INVALID_PARAMETER_VALUE',
        400,
      );
      assert.match(
        warm.message,
        /^targets\[0\]\.model: models:\/penguins\/8 could not be loaded and warmed: leaf value is NaN/,
      );
      assert.equal(loader.loadedFor('penguins', 8)[0]?.closed, true);
      assert.equal((await endpoint.infer(requestOf(row(0), 'st-after'))).version, '1');
      assert.equal(endpoint.ready(), true);
      loader.failLoads('penguins', 3, undefined);
    });

    it('keeps serving the old version when the alias moves to a version that fails to load', async () => {
      loader.setAlias('penguins', 'stable', 1);
      await runtime.apply(ctx, specOf('follows', 'single', [primary('models:/penguins@stable')]));
      const endpoint = endpointOf('follows');
      loader.failLoads('penguins', 3, new Error('corrupt'));
      loader.setAlias('penguins', 'stable', 3);
      const loadsBefore = loader.predictors.length;
      aliases.emit({ workspace: 'default', name: 'penguins', alias: 'stable' });
      loader.deleteAlias('penguins', 'champion');
      aliases.emit({ workspace: 'default', name: 'penguins', alias: 'champion' });
      await sleep(50);
      for (let i = 0; i < 10; i++) assert.equal((await endpoint.infer(requestOf(row(i), `f${i}`))).version, '1');
      assert.equal(loader.predictors.length, loadsBefore);
      assert.equal((await runtime.get('default', 'champion')?.infer(requestOf(row(0), 'gone')))?.version, '2');
      loader.failLoads('penguins', 3, undefined);
      aliases.emit({ workspace: 'default', name: 'penguins', alias: 'stable' });
      await eventually(
        'the fixed version serves',
        () => runtime.status('default', 'follows')?.targets[0]?.version === '3',
      );
    });

    it('is not ready, and answers 503, until its first model is loaded and warmed', async () => {
      let release = () => {};
      loader.gateLoads('penguins', 2, new Promise<void>((resolve) => (release = resolve)));
      const applying = runtime.apply(ctx, specOf('slow', 'single', [primary('models:/penguins/2')]));
      await eventually('the deployment is visible', () => runtime.get('default', 'slow') !== undefined);
      const endpoint = endpointOf('slow');
      assert.equal(endpoint.ready(), false);
      assert.deepEqual(endpoint.models(), []);
      const err = await rejectsWith(endpoint.infer(requestOf(row(0), 'early')), 'TEMPORARILY_UNAVAILABLE', 503);
      assert.equal(err.details?.retryAfter, 1);
      assert.equal(runtime.status('default', 'slow')?.ready, false);
      release();
      await applying;
      loader.gateLoads('penguins', 2, undefined);
      assert.equal(endpoint.ready(), true);
      assert.equal((await endpoint.infer(requestOf(row(0), 'late'))).version, '2');
    });
  });

  describe('admission, timeouts and batching', () => {
    before(fresh);

    it('sheds requests beyond maxQueue with a 503 carrying retryAfter, and serves again once the queue empties', async () => {
      await runtime.apply(ctx, specOf('bounded', 'single', [primary('models:/penguins/1')], { maxQueue: 3 }));
      const endpoint = endpointOf('bounded');
      const predictor = loader.loadedFor('penguins', 1)[0];
      assert.ok(predictor);
      let open = () => {};
      predictor.behaviour = { gate: new Promise<void>((resolve) => (open = resolve)) };
      const held = [0, 1, 2].map((i) => endpoint.infer(requestOf(row(i), `held-${i}`)));
      const err = await rejectsWith(endpoint.infer(requestOf(row(3), 'shed')), 'TEMPORARILY_UNAVAILABLE', 503);
      const retryAfter = err.details?.retryAfter;
      assert.ok(typeof retryAfter === 'number' && Number.isInteger(retryAfter) && retryAfter >= 1, String(retryAfter));
      assert.equal(err.details?.maxQueue, 3);
      assert.equal(runtime.status('default', 'bounded')?.targets[0]?.inFlight, 3);
      predictor.behaviour = {};
      open();
      const answers = await Promise.all(held);
      assert.deepEqual(
        answers.map((a: InferenceResult) => a.prediction[0]),
        [0, 1, 2].map((i) => directPenguins(models.penguinGbdt, row(i)).prediction[0]),
      );
      assert.equal((await endpoint.infer(requestOf(row(3), 'after'))).version, '1');
      assert.equal(
        await metricValue(registry, 'kiln_serving_requests_total', { deployment: 'bounded', outcome: 'rejected' }),
        1,
      );
    });

    it('answers 504 when the model takes longer than timeoutMs, and counts the error', async () => {
      await runtime.apply(ctx, specOf('slowpoke', 'single', [primary('models:/penguins/2')], { timeoutMs: 40 }));
      const endpoint = endpointOf('slowpoke');
      const predictor = loader.loadedFor('penguins', 2)[0];
      assert.ok(predictor);
      predictor.behaviour = { delayMs: 250 };
      const err = await rejectsWith(endpoint.infer(requestOf(row(0), 'late')), 'DEADLINE_EXCEEDED', 504);
      assert.equal(err.details?.timeoutMs, 40);
      const status = runtime.status('default', 'slowpoke')?.targets[0];
      assert.equal(status?.errors, 1);
      assert.equal(status?.inFlight, 1, 'the model is still working on it');
      await eventually(
        'the abandoned predict finished',
        () => runtime.status('default', 'slowpoke')?.targets[0]?.inFlight === 0,
      );
      predictor.behaviour = {};
      assert.equal((await endpoint.infer(requestOf(row(0), 'quick'))).version, '2');
      assert.equal(
        await metricValue(registry, 'kiln_serving_requests_total', { deployment: 'slowpoke', outcome: 'timeout' }),
        1,
      );
    });

    it('merges concurrent requests into batches and gives each its own rows back', async () => {
      await runtime.apply(
        ctx,
        specOf('batched', 'single', [primary('models:/penguins/3')], { batching: { maxBatchSize: 16, maxWaitMs: 20 } }),
      );
      const endpoint = endpointOf('batched');
      const predictor = loader.loadedFor('penguins', 3)[0];
      assert.ok(predictor);
      const warmCalls = predictor.calls.length;
      const requests = Array.from({ length: 40 }, (_, i) => models.penguins.slice(i * 7, i * 7 + 1 + (i % 3)));
      requests.push(models.penguins.slice(300, 320));
      const answers = await Promise.all(requests.map((rows, i) => endpoint.infer(requestOf(rows, `b${i}`))));
      answers.forEach((answer, i) => {
        const direct = directPenguins(models.penguinGbdt, requests[i] as Record<string, unknown>[]);
        assert.deepEqual(answer.prediction, direct.prediction, `request ${i}`);
        assert.deepEqual(
          Array.from(answer.probabilities ?? []),
          Array.from(direct.probabilities ?? []),
          `request ${i}`,
        );
      });
      const calls = predictor.calls.slice(warmCalls);
      const rows = requests.reduce((sum, r) => sum + r.length, 0);
      assert.equal(
        calls.reduce((sum, c) => sum + c, 0),
        rows,
      );
      assert.ok(calls.length < requests.length / 2, `${calls.length} predict calls for ${requests.length} requests`);
      assert.ok(
        calls.every((c) => c <= 16 || c === 20),
        `batch sizes ${calls.join(',')}`,
      );
      assert.ok(calls.includes(20), 'the 20-row request ran alone');
      assert.equal(
        await metricValue(registry, 'kiln_serving_batch_size_count', { deployment: 'batched', version: '3' }),
        calls.length,
      );
    });

    it('drops a batched request whose deadline passed while it waited, with a 504', async () => {
      await runtime.apply(
        ctx,
        specOf('batched', 'single', [primary('models:/penguins/3')], {
          batching: { maxBatchSize: 1000, maxWaitMs: 200 },
          timeoutMs: 30,
        }),
      );
      const endpoint = endpointOf('batched');
      const predictor = loader.loadedFor('penguins', 3)[0];
      assert.ok(predictor);
      const before = predictor.calls.length;
      await rejectsWith(endpoint.infer(requestOf(row(0), 'waited')), 'DEADLINE_EXCEEDED', 504);
      await sleep(250);
      assert.equal(predictor.calls.length, before, 'the expired request was never predicted');
      assert.equal(runtime.status('default', 'batched')?.targets[0]?.queueDepth, 0);
    });
  });
});
