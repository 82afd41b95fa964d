import { KilnError, type Logger } from '../../core/index.js';
import type { Frame } from '../../learn/index.js';
import { frameFromTable } from '../input.js';
import type {
  DeploymentLiveStatus,
  DeploymentSpec,
  DeploymentTarget,
  EndpointModel,
  InferenceRequest,
  InferenceResult,
  InputPolicy,
  PredictionRecord,
  PredictionSink,
  PredictorOutput,
  RawTable,
  ServedEndpoint,
  ShadowReport,
  TargetLiveStatus,
  TargetRole,
} from '../types.js';
import { DeadlineSweeper } from './deadlines.js';
import { OUTCOME, type RequestSeries, type ServingMetrics } from './metrics.js';
import { planRoutes } from './plan.js';
import { bucketThreshold, type FastRandom, stableBucket, WeightedSplit } from './routing.js';
import { ShadowTracker } from './shadow.js';
import type { TargetSlot } from './slot.js';

/** The input policy of a deployment that is still loading. */
const LOADING_POLICY: InputPolicy = { extraColumns: 'ignore', maxBatchRows: 10_000 };

/** One target of a routing table: the spec entry, the slot that answers for it and its counters. */
export interface RouteTarget {
  readonly target: DeploymentTarget;
  readonly slot: TargetSlot;
  readonly series: RequestSeries;
}

/** A shadow target: mirrored for requests whose bucket is below `threshold`. */
export interface ShadowRoute extends RouteTarget {
  readonly threshold: number;
  readonly salt: number;
  readonly tracker: ShadowTracker;
}

/**
 * What a deployment serves at one moment. Replaced whole (one assignment) on every change, so a
 * request sees either the old table or the new one, never a mix.
 */
export interface RoutingTable {
  readonly spec: DeploymentSpec;
  /** Targets whose answers are returned; the first is the primary. */
  readonly answering: readonly RouteTarget[];
  readonly split: WeightedSplit<RouteTarget>;
  readonly shadows: readonly ShadowRoute[];
  /** Log every answer (sample rate ≥ 1) or a share of them. */
  readonly logAll: boolean;
  readonly logRate: number;
  /** Times out this table's requests; absent when the spec sets no limit. */
  readonly deadlines: DeadlineSweeper | undefined;
}

/** What a {@link DeploymentEndpoint} needs from the runtime that owns it. */
export interface EndpointDeps {
  readonly metrics: ServingMetrics;
  readonly sink?: PredictionSink;
  readonly logger: Logger;
  /** Epoch ms, for record timestamps and report times. */
  readonly clock: () => number;
  readonly random: FastRandom;
  /** Called when a prediction record could not be handed to the sink. */
  readonly dropped: () => void;
}

/** Stable salts so each shadow's mirroring draw is independent of the routing split and of the other shadows. */
const SHADOW_SALT = 0x5bd1e995;

/**
 * One deployment as the protocol routes see it: routes each request to a target (sticky by its
 * routing key, otherwise at random by weight), admits it against the deployment's queue limit,
 * predicts with a deadline, counts and logs the answer, and mirrors a share to shadow targets after
 * the answer is on its way. The routing table is swapped by the runtime; everything on the request
 * path reads it once, at the start, so a swap never mixes two configurations in one request.
 *
 * @example
 * const endpoint = runtime.get('default', 'churn');
 * const result = await endpoint.infer({ table: rowsTable(body.rows), requestId, protocol: 'kiln' });
 */
export class DeploymentEndpoint implements ServedEndpoint {
  #table: RoutingTable | undefined;
  #pending = 0;
  /** Exponentially weighted mean latency (ms), for the Retry-After estimate of a shed request. */
  #meanMs = 1;
  #trackers = new Map<string, ShadowTracker>();
  readonly #created: number;

  constructor(
    readonly workspace: string,
    readonly name: string,
    private readonly deps: EndpointDeps,
  ) {
    this.#created = deps.clock();
  }

  /** The table serving now; undefined until the first apply finishes. */
  get table(): RoutingTable | undefined {
    return this.#table;
  }

  get inputPolicy(): InputPolicy {
    return this.#table?.spec.input ?? LOADING_POLICY;
  }

  /** Requests admitted and not finished (queued or predicting), across the answering targets. */
  get pending(): number {
    return this.#pending;
  }

  ready(): boolean {
    return this.#table?.answering[0]?.slot.ready === true;
  }

  models(): EndpointModel[] {
    const table = this.#table;
    if (table === undefined) return [];
    return [...table.answering, ...table.shadows].map(({ target, slot }) => {
      const predictor = slot.model.predictor;
      const model: EndpointModel = {
        name: slot.model.name,
        version: slot.model.version,
        flavour: slot.model.flavour,
        task: predictor.task,
        inputs: predictor.inputs,
        role: target.role,
        ready: slot.ready,
      };
      if (predictor.classes !== undefined) model.classes = predictor.classes;
      return model;
    });
  }

  /**
   * Builds the table for `spec` over the given slots (`slots[i]` serves `spec.targets[i]`) and
   * swaps it in with one assignment. Returns the table it replaced.
   */
  swap(spec: DeploymentSpec, slots: readonly TargetSlot[]): RoutingTable | undefined {
    const plan = planRoutes(spec);
    const routeOf = (index: number): RouteTarget => {
      const target = spec.targets[index] as DeploymentTarget;
      const slot = slots[index] as TargetSlot;
      const series = this.deps.metrics.requests({ ...slot.labels, role: target.role });
      return { target, slot, series };
    };
    const answering = plan.answering.map((p) => routeOf(p.index));
    const trackers = new Map<string, ShadowTracker>();
    const shadows = plan.shadows.map((p, i): ShadowRoute => {
      const route = routeOf(p.index);
      const tracker =
        trackers.get(route.slot.key) ?? this.#trackers.get(route.slot.key) ?? new ShadowTracker(this.deps.clock());
      trackers.set(route.slot.key, tracker);
      return { ...route, threshold: bucketThreshold(p.weight), salt: SHADOW_SALT + i * 0x9e3779b1, tracker };
    });
    for (const slot of slots) slot.configureBatching(spec.batching);
    const rate = spec.logging?.sampleRate ?? 1;
    const table: RoutingTable = {
      spec,
      answering,
      split: new WeightedSplit(
        plan.answering.map((p, i) => ({ value: answering[i] as RouteTarget, weight: p.weight })),
      ),
      shadows,
      logAll: rate >= 1,
      logRate: rate,
      deadlines:
        Number.isFinite(spec.timeoutMs) && spec.timeoutMs > 0
          ? new DeadlineSweeper(spec.timeoutMs, spec.name)
          : undefined,
    };
    const previous = this.#table;
    this.#table = table;
    this.#trackers = trackers;
    previous?.deadlines?.close();
    return previous;
  }

  /** Forgets the table (the deployment is being removed); requests from now on get 503. */
  clear(): RoutingTable | undefined {
    const previous = this.#table;
    this.#table = undefined;
    previous?.deadlines?.close();
    return previous;
  }

  async infer(request: InferenceRequest): Promise<InferenceResult> {
    const table = this.#table;
    if (table === undefined) throw this.#notReady();
    const protocol = request.protocol;
    const route = table.split.pick(
      request.routeKey === undefined ? this.deps.random.bucket() : stableBucket(request.routeKey),
    );
    const spec = table.spec;
    if (this.#pending >= spec.maxQueue) {
      route.series.count(protocol, OUTCOME.rejected);
      throw this.#shed(spec);
    }
    const slot = route.slot;
    const predictor = slot.model.predictor;
    const started = performance.now();
    let output: PredictorOutput;
    try {
      const frame = frameFromTable(predictor.inputs, request.table, spec.input);
      output = await this.#call(table, slot, frame, started);
    } catch (err) {
      const outcome = outcomeOf(err);
      route.series.count(protocol, outcome);
      if (outcome === OUTCOME.error || outcome === OUTCOME.timeout) slot.errors++;
      throw err;
    }
    const ms = performance.now() - started;
    slot.requests++;
    slot.latency.record(ms);
    slot.duration.observe(ms / 1000);
    route.series.count(protocol, OUTCOME.success);
    this.#meanMs += (ms - this.#meanMs) * 0.05;
    let logged = false;
    if (
      this.deps.sink !== undefined &&
      (table.logAll || (table.logRate > 0 && this.deps.random.unit() < table.logRate))
    ) {
      this.#record(slot, route.target.role, request, output, ms);
      logged = true;
    }
    if (table.shadows.length > 0) this.#mirror(table, route, request, output, ms, logged);
    const result: InferenceResult = {
      prediction: output.prediction,
      task: predictor.task,
      model: slot.model.name,
      version: slot.model.version,
    };
    if (output.probabilities !== undefined) result.probabilities = output.probabilities;
    if (predictor.classes !== undefined) result.classes = predictor.classes;
    return result;
  }

  /**
   * Runs one admitted request on `slot`: counted in the queue limit and entered on the slot until
   * its predictor is done with it (not merely until its caller got a 504), answered 504 by the
   * table's sweeper if it takes longer than the time limit.
   */
  #call(table: RoutingTable, slot: TargetSlot, frame: Frame, started: number): Promise<PredictorOutput> {
    this.#pending++;
    slot.enter();
    const deadlines = table.deadlines;
    let work: Promise<PredictorOutput>;
    try {
      work = slot.predict(frame, deadlines === undefined ? Number.POSITIVE_INFINITY : started + deadlines.timeoutMs);
    } catch (err) {
      work = Promise.reject(err);
    }
    return new Promise<PredictorOutput>((resolve, reject) => {
      const entry = deadlines?.add(started + deadlines.timeoutMs, reject);
      work.then(
        (output) => {
          this.#pending--;
          slot.leave();
          if (entry !== undefined) deadlines?.remove(entry);
          resolve(output);
        },
        (err: unknown) => {
          this.#pending--;
          slot.leave();
          if (entry !== undefined) deadlines?.remove(entry);
          reject(err);
        },
      );
    });
  }

  #mirror(
    table: RoutingTable,
    route: RouteTarget,
    request: InferenceRequest,
    output: PredictorOutput,
    ms: number,
    logged: boolean,
  ): void {
    for (const shadow of table.shadows) {
      if (shadow.threshold <= 0) continue;
      const bucket =
        request.routeKey === undefined ? this.deps.random.bucket() : stableBucket(request.routeKey, shadow.salt);
      if (bucket >= shadow.threshold) continue;
      // A slow or stuck challenger must not grow without bound: beyond the deployment's queue
      // limit the mirror is skipped (and counted as rejected), never the primary.
      if (shadow.slot.closed || shadow.slot.active >= table.spec.maxQueue) {
        shadow.series.count(request.protocol, OUTCOME.rejected);
        continue;
      }
      if (!logged && this.deps.sink !== undefined) {
        this.#record(route.slot, route.target.role, request, output, ms);
        logged = true;
      }
      // Entered now, so a drain that starts before the mirror runs waits for it.
      shadow.slot.enter();
      setImmediate(runShadow, this, table, shadow, route, request, output, ms);
    }
  }

  /** @internal Runs one mirrored request (the slot was entered for it); never throws: everything is counted and logged. */
  async mirrorOne(
    table: RoutingTable,
    shadow: ShadowRoute,
    route: RouteTarget,
    request: InferenceRequest,
    primary: PredictorOutput,
    primaryMs: number,
  ): Promise<void> {
    const slot = shadow.slot;
    const spec = table.spec;
    const started = performance.now();
    let entered = true;
    try {
      const frame = frameFromTable(slot.model.predictor.inputs, request.table, spec.input);
      const deadlines = table.deadlines;
      const work = slot.predict(
        frame,
        deadlines === undefined ? Number.POSITIVE_INFINITY : started + deadlines.timeoutMs,
      );
      entered = false;
      const output = await new Promise<PredictorOutput>((resolve, reject) => {
        const entry = deadlines?.add(started + deadlines.timeoutMs, reject);
        const done = () => {
          slot.leave();
          if (entry !== undefined) deadlines?.remove(entry);
        };
        work.then(
          (out) => {
            done();
            resolve(out);
          },
          (err: unknown) => {
            done();
            reject(err);
          },
        );
      });
      const ms = performance.now() - started;
      slot.requests++;
      slot.latency.record(ms);
      slot.duration.observe(ms / 1000);
      shadow.series.count(request.protocol, OUTCOME.success);
      shadow.tracker.compare(
        primary,
        route.slot.model.predictor.classes,
        output,
        slot.model.predictor.classes,
        primaryMs,
        ms,
      );
      if (this.deps.sink !== undefined) this.#record(slot, 'shadow', request, output, ms);
    } catch (err) {
      if (entered) slot.leave();
      const ms = performance.now() - started;
      const outcome = outcomeOf(err);
      slot.errors++;
      shadow.series.count(request.protocol, outcome);
      shadow.tracker.failed(primaryMs);
      const message = err instanceof Error ? err.message : String(err);
      this.deps.logger.debug(
        { err, deployment: this.name, model: slot.key, requestId: request.requestId },
        'shadow prediction failed',
      );
      if (this.deps.sink !== undefined) this.#record(slot, 'shadow', request, undefined, ms, message);
    }
  }

  #record(
    slot: TargetSlot,
    role: TargetRole,
    request: InferenceRequest,
    output: PredictorOutput | undefined,
    latencyMs: number,
    error?: string,
  ): void {
    const record: PredictionRecord = {
      workspace: this.workspace,
      deployment: this.name,
      model: slot.model.name,
      version: slot.model.version,
      role,
      requestId: request.requestId,
      timestamp: this.deps.clock(),
      inputs: inputsOf(request.table),
      outputs: output === undefined ? { prediction: [] } : outputsOf(output),
      latencyMs,
    };
    if (error !== undefined) record.error = error;
    try {
      this.deps.sink?.record(record);
    } catch {
      // A sink must not throw; one that does loses the record, counted, never the request.
      this.deps.dropped();
    }
  }

  /** Live figures of every target of the current table. */
  status(): DeploymentLiveStatus {
    const table = this.#table;
    const targets: TargetLiveStatus[] = [];
    if (table !== undefined) {
      for (const { target, slot } of [...table.answering, ...table.shadows]) {
        targets.push({
          model: target.model,
          role: target.role,
          weight: target.weight,
          version: slot.model.version,
          ready: slot.ready,
          requests: slot.requests,
          errors: slot.errors,
          inFlight: slot.inFlight,
          queueDepth: slot.queueDepth,
          latencyMs: slot.latency.percentiles(),
        });
      }
    }
    return { name: this.name, ready: this.ready(), targets };
  }

  /**
   * Primary vs each shadow over the mirrored requests since that shadow version joined (a change
   * that keeps a shadow's version keeps its figures); `since` is the oldest of those starts.
   */
  shadowReport(): ShadowReport {
    const shadows = this.#table?.shadows ?? [];
    const since = shadows.length === 0 ? this.#created : Math.min(...shadows.map((s) => s.tracker.since));
    return {
      deployment: this.name,
      since: new Date(since).toISOString(),
      comparisons: shadows.map((s) => s.tracker.comparison(s.slot.key, s.slot.model.version)),
    };
  }

  #notReady(): KilnError {
    return new KilnError(
      'TEMPORARILY_UNAVAILABLE',
      `Deployment '${this.name}' is not ready: its model is still loading`,
      { deployment: this.name, retryAfter: 1 },
    );
  }

  #shed(spec: DeploymentSpec): KilnError {
    const retryAfter = Math.min(60, Math.max(1, Math.ceil((this.#pending * this.#meanMs) / 1000)));
    return new KilnError(
      'TEMPORARILY_UNAVAILABLE',
      `Deployment '${this.name}' has ${this.#pending} requests queued or in flight (its limit, maxQueue, is ${spec.maxQueue}); retry after ${retryAfter} s`,
      { deployment: this.name, maxQueue: spec.maxQueue, retryAfter },
    );
  }
}

function runShadow(
  endpoint: DeploymentEndpoint,
  table: RoutingTable,
  shadow: ShadowRoute,
  route: RouteTarget,
  request: InferenceRequest,
  output: PredictorOutput,
  ms: number,
): void {
  void endpoint.mirrorOne(table, shadow, route, request, output, ms);
}

/** The outcome label of a failed request. */
function outcomeOf(err: unknown): number {
  if (!(err instanceof KilnError)) return OUTCOME.error;
  if (err.code === 'DEADLINE_EXCEEDED') return OUTCOME.timeout;
  if (err.code === 'TEMPORARILY_UNAVAILABLE') return OUTCOME.rejected;
  return err.status >= 400 && err.status < 500 ? OUTCOME.invalid : OUTCOME.error;
}

/** The request's columns as the client gave them (no copy: the log serialises them later). */
function inputsOf(table: RawTable): Record<string, unknown[]> {
  const inputs: Record<string, unknown[]> = {};
  for (const [name, values] of table.columns) inputs[name] = values as unknown[];
  return inputs;
}

/** The answer as plain arrays for the log; element loops, since `Array.from` over typed-array views costs microseconds. */
function outputsOf(output: PredictorOutput): PredictionRecord['outputs'] {
  const source = output.prediction;
  const rows = source.length;
  let prediction: (number | string)[];
  if (source instanceof Float64Array) {
    prediction = new Array<number>(rows);
    for (let r = 0; r < rows; r++) prediction[r] = source[r] as number;
  } else {
    prediction = source;
  }
  const probabilities = output.probabilities;
  if (probabilities === undefined) return { prediction };
  const k = rows === 0 ? 0 : probabilities.length / rows;
  const perRow = new Array<number[]>(rows);
  for (let r = 0; r < rows; r++) {
    const values = new Array<number>(k);
    for (let c = 0; c < k; c++) values[c] = probabilities[r * k + c] as number;
    perRow[r] = values;
  }
  return { prediction, probabilities: perRow };
}
