import type { RequestContext } from '../core/index.js';
import type { Frame, ModelSignature, SignatureType, Task } from '../learn/index.js';

/** How a model file is stored; each has a loader behind the one {@link Predictor} interface. */
export type ModelFlavour = 'kiln' | 'onnx' | 'xgboost';

/** One column a served model reads, and the frame column kind its predictor needs. */
export interface ServingInput {
  name: string;
  /** The frame column kind to build: numbers → float, text and booleans → categorical, dates → datetime. */
  kind: 'float' | 'categorical' | 'datetime';
  /** The type the model's signature names (what a client is told in metadata). */
  type: SignatureType;
  /** Whether missing values are accepted (JSON null, a missing key in a row). */
  nullable: boolean;
}

/** What a predictor returns for a frame of n rows. */
export interface PredictorOutput {
  /** Regression: n numbers. Classification: n class labels. */
  prediction: Float64Array | string[];
  /** Classification: n × classes probabilities, row-major, in the order of `classes`. */
  probabilities?: Float64Array;
}

/**
 * A loaded model, whatever its flavour. `predict` is given a frame built against `inputs` (the
 * caller has validated it) and never mutates it. Loading never executes code from the model file.
 */
export interface Predictor {
  readonly flavour: ModelFlavour;
  readonly task: Task;
  readonly inputs: readonly ServingInput[];
  /** Class labels, classification only. */
  readonly classes?: readonly string[];
  readonly signature: ModelSignature;
  predict(frame: Frame): Promise<PredictorOutput>;
  /** Frees native resources (ONNX sessions); idempotent. */
  close(): Promise<void>;
}

/** What to serve: a registry version, a registry alias (followed), or a file / directory. */
export type ModelRef =
  | { kind: 'version'; name: string; version: number }
  | { kind: 'alias'; name: string; alias: string }
  | { kind: 'path'; path: string; name?: string };

/** A model loaded and ready to predict, with where it came from. */
export interface LoadedModel {
  /** Registered model name, or for a path the `--name` given or the file name without extension. */
  name: string;
  /** Registered version as a string ('3'); '1' for a path. */
  version: string;
  flavour: ModelFlavour;
  predictor: Predictor;
  /** Bytes of model files read. */
  sizeBytes: number;
}

/** Resolves and loads models; the registry-backed one lives in predictors/, used by deployments and `kiln serve`. */
export interface ModelLoader {
  /** An alias to the version it names now; other refs unchanged. 404 KilnError for unknown models. */
  resolve(ctx: RequestContext, ref: ModelRef): Promise<ModelRef>;
  load(ctx: RequestContext, ref: ModelRef): Promise<LoadedModel>;
}

/**
 * A request's input before it meets a model: raw JSON-ish values per column, as a protocol parsed
 * them. The runtime turns it into a {@link Frame} against the inputs of the model that will answer
 * (see `frameFromTable` in input.ts), so canary and primary may differ in signature.
 */
export interface RawTable {
  rows: number;
  /** Column name → `rows` values (number, string, boolean, null; anything else is refused). */
  columns: Map<string, readonly unknown[]>;
  /** The request field that holds a cell, for error messages: `rows[3].distance`, `inputs[0].data[3]`. */
  fieldOf(column: string, row: number): string;
  /** The request field naming a whole column: `columns.distance`, `inputs[0]`. */
  columnField(column: string): string;
}

/** How strictly a request is matched to the model's inputs. */
export interface InputPolicy {
  /** Columns the model does not read: ignored (default) or refused with 400. */
  extraColumns: 'ignore' | 'reject';
  /** Most rows one request may carry (400 naming the field beyond it). */
  maxBatchRows: number;
}

/** One inference through an endpoint. */
export interface InferenceRequest {
  table: RawTable;
  requestId: string;
  /** Sticky routing key (canary / A-B): the same key always reaches the same target. */
  routeKey?: string;
  /** Which protocol carried it, for metrics: 'kiln' | 'mlflow' | 'oip'. */
  protocol: string;
}

/** An endpoint's answer, with the model version that produced it. */
export interface InferenceResult extends PredictorOutput {
  task: Task;
  classes?: readonly string[];
  /** The model that answered. */
  model: string;
  version: string;
}

/** One model behind an endpoint, as metadata reports it. */
export interface EndpointModel {
  name: string;
  version: string;
  flavour: ModelFlavour;
  task: Task;
  classes?: readonly string[];
  inputs: readonly ServingInput[];
  /** primary | canary | shadow | variant */
  role: string;
  ready: boolean;
}

/**
 * What a protocol adapter talks to: one deployment (inside `kiln server`) or one model (`kiln
 * serve`). Thrown KilnErrors carry the HTTP status (400 bad input, 503 with `details.retryAfter`
 * seconds when the queue is full, 504 on timeout).
 */
export interface ServedEndpoint {
  readonly name: string;
  readonly inputPolicy: InputPolicy;
  /** True once the primary model is loaded and warmed. */
  ready(): boolean;
  /** The models answering now; the first is the primary. */
  models(): EndpointModel[];
  infer(request: InferenceRequest): Promise<InferenceResult>;
}

/** Finds endpoints by workspace and name for the protocol routes (undefined → 404 naming the deployment). */
export interface EndpointDirectory {
  get(workspace: string, name: string): ServedEndpoint | undefined;
  list(workspace: string): ServedEndpoint[];
}

/**
 * How traffic is split. single: one `primary`. canary: a `primary` and one `canary` whose weight is
 * its percentage of traffic. ab: two or more `variant`s whose weights sum to 100. shadow: a
 * `primary` and `shadow` targets. `shadow` targets may be added to any strategy: their weight is the
 * percentage of requests mirrored to them; their answers are logged and compared, never returned.
 */
export type DeploymentStrategy = 'single' | 'canary' | 'ab' | 'shadow';

export type TargetRole = 'primary' | 'canary' | 'variant' | 'shadow';

/** One model version behind a deployment. */
export interface DeploymentTarget {
  /** `models:/name/3`, or `models:/name@alias` to follow the alias (hot swap when it moves). */
  model: string;
  role: TargetRole;
  /** canary / variant: percentage of traffic; shadow: percentage mirrored; primary: ignored (takes the rest). */
  weight: number;
}

/** Adaptive micro-batching: requests wait up to `maxWaitMs` to share one predict call of ≤ `maxBatchSize` rows. */
export interface BatchingOptions {
  maxBatchSize: number;
  maxWaitMs: number;
}

/** A deployment as stored and as the runtime applies it (all defaults filled in). */
export interface DeploymentSpec {
  workspace: string;
  name: string;
  strategy: DeploymentStrategy;
  targets: DeploymentTarget[];
  /** Off (undefined) by default, for the lowest latency. */
  batching?: BatchingOptions;
  /** Requests queued or in flight beyond which new ones get 503 with Retry-After. Default 1000. */
  maxQueue: number;
  /** Per-request limit in ms, 504 beyond. Default 10000. */
  timeoutMs: number;
  /** Default { extraColumns: 'ignore', maxBatchRows: 10000 }. */
  input: InputPolicy;
  /** Share of requests (0–1) whose inputs and outputs go to the prediction log. Default 1. */
  logging: { sampleRate: number };
}

/** Live figures of one target, from the runtime. */
export interface TargetLiveStatus {
  model: string;
  role: TargetRole;
  weight: number;
  /** The resolved version serving now (an alias target's current version). */
  version: string;
  ready: boolean;
  requests: number;
  errors: number;
  inFlight: number;
  queueDepth: number;
  latencyMs: { p50: number; p99: number };
}

/** Live status of a deployment in this process. */
export interface DeploymentLiveStatus {
  name: string;
  ready: boolean;
  targets: TargetLiveStatus[];
}

/** Primary vs one shadow target over the mirrored requests so far. */
export interface ShadowComparison {
  /** The shadow target as resolved, e.g. `models:/churn/4` (two versions of one model stay apart). */
  shadow: string;
  shadowVersion: string;
  mirrored: number;
  shadowErrors: number;
  /** Classification: share of rows where the labels agree. */
  labelAgreement?: number;
  /** Regression (and class probabilities): mean and max absolute difference. */
  meanAbsDiff?: number;
  maxAbsDiff?: number;
  primaryLatencyMs: { p50: number; p99: number };
  shadowLatencyMs: { p50: number; p99: number };
}

/** The shadow comparison report of a deployment. */
export interface ShadowReport {
  deployment: string;
  since: string;
  comparisons: ShadowComparison[];
}

/**
 * Where request / response records go (the monitoring context's prediction log implements it). It
 * must never block or throw: when its buffer is full it drops and counts.
 */
export interface PredictionSink {
  record(entry: PredictionRecord): void;
}

/** One logged request (or one shadow answer). */
export interface PredictionRecord {
  workspace: string;
  deployment: string;
  model: string;
  version: string;
  role: TargetRole;
  requestId: string;
  /** Epoch ms. */
  timestamp: number;
  /** Column name → values, as the request gave them. */
  inputs: Record<string, unknown[]>;
  /** prediction (and probabilities as arrays per row) */
  outputs: { prediction: (number | string)[]; probabilities?: number[][] };
  latencyMs: number;
  /** Set when this target failed (a shadow that threw). */
  error?: string;
}
