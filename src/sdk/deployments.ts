import type { KilnClient } from './client.js';

/** How traffic is split: one primary, a canary share, A/B variants, or a primary with shadows. */
export type DeploymentStrategy = 'single' | 'canary' | 'ab' | 'shadow';

/** What a model does in a deployment. */
export type DeploymentRole = 'primary' | 'canary' | 'variant' | 'shadow';

/** One model of a deployment as a request gives it. */
export interface DeploymentTargetInput {
  /** `models:/name/3`, or `models:/name@champion` to follow the alias (hot swap when it moves). */
  model: string;
  /** Default `primary` (`variant` under `ab`). */
  role?: DeploymentRole;
  /**
   * Percent, 0–100. canary: its share of traffic (default 10); variant: its share (the variants
   * sum to 100, equal by default); shadow: share of requests mirrored (default 100); primary: the rest.
   */
  weight?: number;
}

/** Settings shared by create and update; every one has a default on the server. */
export interface DeploymentSettings {
  /** Default: read from the roles of the targets. */
  strategy?: DeploymentStrategy;
  /** Adaptive micro-batching, off by default (lowest latency); `null` in an update turns it off. */
  batching?: { max_batch_size?: number; max_wait_ms?: number } | null;
  /** Requests queued or in flight before new ones get 503 with Retry-After; default 1000. */
  max_queue?: number;
  /** Per-request limit in ms (504 beyond); default 10000. */
  timeout_ms?: number;
  /** Columns the model does not read: ignored (default) or refused; most rows per request (default 10000). */
  input?: { extra_columns?: 'ignore' | 'reject'; max_batch_rows?: number };
  /** Share of requests (0–1) whose inputs and outputs are logged; default 1. */
  logging?: { sample_rate?: number };
}

/** What `POST /api/v1/deployments` takes. */
export interface DeploymentInput extends DeploymentSettings {
  /** The endpoint's name: predictions go to `/serve/<name>/predict`. */
  name: string;
  targets: DeploymentTargetInput[];
}

/** What `PATCH /api/v1/deployments/<name>` takes: only the fields to change. New targets replace all of them. */
export interface DeploymentUpdate extends DeploymentSettings {
  targets?: DeploymentTargetInput[];
}

/** A stored spec, every default filled in. */
export interface DeploymentSpec {
  name: string;
  strategy: DeploymentStrategy;
  targets: { model: string; role: DeploymentRole; weight: number }[];
  batching?: { max_batch_size: number; max_wait_ms: number };
  max_queue: number;
  timeout_ms: number;
  input: { extra_columns: 'ignore' | 'reject'; max_batch_rows: number };
  logging: { sample_rate: number };
}

/** Live figures of one target in the server. */
export interface DeploymentTargetStatus {
  model: string;
  role: DeploymentRole;
  weight: number;
  /** The version serving now (what an alias resolves to); empty when not loaded. */
  version: string;
  ready: boolean;
  requests: number;
  errors: number;
  in_flight: number;
  queue_depth: number;
  latency_ms: { p50: number; p99: number };
}

/** Live status of a deployment in the server. */
export interface DeploymentStatus {
  name: string;
  /** True once its models are loaded and warmed. */
  ready: boolean;
  targets: DeploymentTargetStatus[];
}

/** A deployment: its spec, current revision and live status. */
export interface Deployment extends DeploymentSpec {
  revision: number;
  /** Why the current revision exists. */
  reason: 'create' | 'update' | 'promote' | 'rollback';
  created_by: string;
  created_at: string;
  updated_by: string;
  updated_at: string;
  status: DeploymentStatus;
}

/** One stored spec of a deployment's history. */
export interface DeploymentRevision {
  revision: number;
  reason: Deployment['reason'];
  actor: string;
  created_at: string;
  spec: DeploymentSpec;
}

/** How one shadow compared with the primary over the mirrored requests. */
export interface ShadowComparison {
  shadow: string;
  shadow_version: string;
  mirrored: number;
  shadow_errors: number;
  /** Classification: share of rows whose labels agree. */
  label_agreement?: number;
  mean_abs_diff?: number;
  max_abs_diff?: number;
  primary_latency_ms: { p50: number; p99: number };
  shadow_latency_ms: { p50: number; p99: number };
}

/** A deployment's shadow comparison report. */
export interface ShadowReport {
  deployment: string;
  since: string;
  comparisons: ShadowComparison[];
}

/** The answer of `POST /serve/<deployment>/predict`. */
export interface Prediction {
  /** The model and version that answered (a canary's when the request went to it). */
  model: string;
  version: string;
  /** One per row: a number (regression) or a class label. */
  predictions: (number | string)[];
  /** Classifiers: one array per row, in the order of `classes`. */
  probabilities?: number[][];
  classes?: string[];
  request_id: string;
}

/** Options of {@link DeploymentsApi.predict}. */
export interface PredictOptions {
  /** Sticky routing: requests with the same key reach the same canary / A/B target. */
  routeKey?: string;
  signal?: AbortSignal;
}

/** Paging of lists. */
export interface DeploymentPageParams {
  maxResults?: number;
  pageToken?: string;
}

/**
 * `kiln.deployments`: deployments over `/api/v1/deployments` — a named endpoint serving one or more
 * registered model versions with a strategy (single, canary, A/B, shadow), promote and rollback —
 * and predictions through `/serve/<name>/predict`. A change answers once the server has loaded
 * and warmed its models; a model that fails to load is an error and changes nothing.
 *
 * @example
 * await kiln.deployments.create({ name: 'flights', targets: [{ model: 'models:/flights@champion' },
 *   { model: 'models:/flights/4', role: 'canary', weight: 10 }] });
 * const { predictions, version } = await kiln.deployments.predict('flights', [{ distance: 500, origin: 'SEA' }]);
 * await kiln.deployments.promote('flights'); // version 4 takes all the traffic
 */
export class DeploymentsApi {
  constructor(private readonly client: KilnClient) {}

  /** Creates a deployment (its models are loaded and warmed before it is stored). */
  async create(input: DeploymentInput): Promise<Deployment> {
    return (await this.client.request<{ deployment: Deployment }>('POST', '/api/v1/deployments', { body: input }))
      .deployment;
  }

  /** One page of the workspace's deployments, by name. */
  list(params: DeploymentPageParams = {}): Promise<{ deployments: Deployment[]; next_page_token?: string }> {
    return this.client.request('GET', '/api/v1/deployments', {
      query: { max_results: params.maxResults, page_token: params.pageToken },
    });
  }

  /** Every deployment of the workspace, following the pages. */
  async listAll(): Promise<Deployment[]> {
    const all: Deployment[] = [];
    let pageToken: string | undefined;
    do {
      const page = await this.list({ ...(pageToken === undefined ? {} : { pageToken }), maxResults: 1000 });
      all.push(...page.deployments);
      pageToken = page.next_page_token;
    } while (pageToken !== undefined);
    return all;
  }

  async get(name: string): Promise<Deployment> {
    return (await this.client.request<{ deployment: Deployment }>('GET', this.path(name))).deployment;
  }

  /** Changes strategy, targets, weights, batching or limits; stored as a new revision. */
  async update(name: string, changes: DeploymentUpdate): Promise<Deployment> {
    return (await this.client.request<{ deployment: Deployment }>('PATCH', this.path(name), { body: changes }))
      .deployment;
  }

  /** Stops serving the deployment and deletes it with its history. */
  async delete(name: string): Promise<void> {
    await this.client.request('DELETE', this.path(name));
  }

  /**
   * Makes the canary, a shadow or an A/B variant the single primary; `target` (a model reference)
   * is needed when there is more than one candidate.
   */
  async promote(name: string, target?: string): Promise<Deployment> {
    const body = target === undefined ? {} : { target };
    return (await this.client.request<{ deployment: Deployment }>('POST', `${this.path(name)}/promote`, { body }))
      .deployment;
  }

  /** Makes an earlier revision's spec current again (default the previous one), as a new revision. */
  async rollback(name: string, revision?: number): Promise<Deployment> {
    const body = revision === undefined ? {} : { revision };
    return (await this.client.request<{ deployment: Deployment }>('POST', `${this.path(name)}/rollback`, { body }))
      .deployment;
  }

  /** One page of the deployment's revisions, newest first. */
  revisions(
    name: string,
    params: DeploymentPageParams = {},
  ): Promise<{ revisions: DeploymentRevision[]; next_page_token?: string }> {
    return this.client.request('GET', `${this.path(name)}/revisions`, {
      query: { max_results: params.maxResults, page_token: params.pageToken },
    });
  }

  /** Live status: per target the version serving, readiness, requests, errors, p50 / p99 latency. */
  async status(name: string): Promise<DeploymentStatus> {
    return (await this.client.request<{ status: DeploymentStatus }>('GET', `${this.path(name)}/status`)).status;
  }

  /** How each shadow compared with the primary so far. */
  async shadowReport(name: string): Promise<ShadowReport> {
    return (await this.client.request<{ report: ShadowReport }>('GET', `${this.path(name)}/shadow-report`)).report;
  }

  /**
   * Predicts with a deployment: `rows` are records of column → value. Safe to repeat, so a 503
   * from a full queue is retried after its Retry-After.
   *
   * @example
   * const { predictions, probabilities, classes } = await kiln.deployments.predict('penguins', [{ Island: 'Biscoe', … }]);
   */
  predict(name: string, rows: readonly Record<string, unknown>[], options: PredictOptions = {}): Promise<Prediction> {
    return this.client.request<Prediction>('POST', `/serve/${encodeURIComponent(name)}/predict`, {
      body: { rows, ...(options.routeKey === undefined ? {} : { route_key: options.routeKey }) },
      idempotent: true,
      ...(options.signal === undefined ? {} : { signal: options.signal }),
    });
  }

  private path(name: string): string {
    return `/api/v1/deployments/${encodeURIComponent(name)}`;
  }
}
