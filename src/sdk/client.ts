import { KilnError } from '../core/index.js';
import { DataApi } from './data.js';
import { DeploymentsApi } from './deployments.js';
import { RegistryApi } from './registry.js';
import { backoffMs, IDEMPOTENT_METHODS, RETRYABLE_STATUSES, retryAfterMs, sleep } from './retry.js';
import { ScoringApi } from './scoring.js';
import { TrackingApi } from './tracking.js';
import { TrainingApi } from './training.js';
import { type AttemptInput, attempt, errorFromResponse, successBody } from './transport.js';
import { StudiesApi, type Study, type StudySpecInput, type StudyWaitOptions } from './tune.js';
import type { LiveStatus, ReadyStatus, VersionInfo } from './types.js';
import { WorkspacesApi } from './workspaces.js';

/** How to reach a Kiln server and how hard to try. */
export interface KilnClientOptions {
  /** The server's base URL, e.g. `http://127.0.0.1:5000` (a path prefix is kept). */
  baseUrl: string;
  /** API token, sent as `Authorization: Bearer <token>`. */
  token?: string;
  /**
   * Per-attempt limit covering connect, request and the whole response body.
   * @default 30000
   */
  timeoutMs?: number;
  /**
   * Retries after the first attempt, for idempotent requests that met a network error or a 429,
   * 502, 503 or 504.
   * @default 3
   */
  retries?: number;
  /**
   * First backoff delay; doubles with each retry, half of it jittered. A `Retry-After` header
   * from the server takes precedence.
   * @default 200
   */
  retryDelayMs?: number;
  /** Workspace to work in, sent as `x-kiln-workspace`; the server uses `default` without it. */
  workspace?: string;
}

/** Query parameters; undefined ones are left out, a list repeats its key (`order_by=a&order_by=b`). */
export type QueryParams = Readonly<Record<string, string | number | boolean | readonly string[] | undefined>>;

/**
 * A request body that is not JSON, such as an artifact upload. `open` is called once per attempt,
 * so a retried upload resends the whole file rather than a half-read stream.
 *
 * @example
 * const raw = { contentType: 'application/octet-stream', open: () => Readable.toWeb(createReadStream(file)) };
 */
export interface RawBody {
  contentType: string;
  open: () => string | Uint8Array | ReadableStream<Uint8Array>;
}

/** Options of one {@link KilnClient.request}. */
export interface RequestOptions {
  /** Sent as JSON. */
  body?: unknown;
  /** Sent as is, instead of `body`. */
  raw?: RawBody;
  query?: QueryParams;
  /**
   * Whether repeating the request is harmless, which allows retries. Defaults to true for GET,
   * HEAD, PUT, DELETE and OPTIONS; set it on a POST that the server deduplicates.
   */
  idempotent?: boolean;
  /** Overrides the client's retry count for this request. */
  retries?: number;
  /** Cancels the request (and any wait between retries); the promise rejects with CANCELLED. */
  signal?: AbortSignal;
  /**
   * Overrides the client's per-attempt timeout; 0 waits without a limit, for transfers and work
   * whose length grows with the data (uploads, downloads, derives). Cancel those with `signal`.
   */
  timeoutMs?: number;
}

/**
 * Typed HTTP client for the Kiln REST API, used by the CLI, the UI and users. Errors come back as
 * the same {@link KilnError} the server threw (code, message, details), so callers handle local
 * and remote failures alike; a server that cannot be reached is TEMPORARILY_UNAVAILABLE naming
 * the URL.
 *
 * @example
 * const kiln = new KilnClient({ baseUrl: 'http://127.0.0.1:5000', workspace: 'fraud' });
 * await kiln.ready();
 * const { workspaces } = await kiln.workspaces.list({ maxResults: 20 });
 * const penguins = await kiln.data.uploadFile('penguins', 'data/penguins.json');
 * const runs = await kiln.request<{ runs: unknown[] }>('GET', '/api/v1/runs', { query: { max_results: 10 } });
 */
export class KilnClient {
  readonly baseUrl: string;
  readonly workspaces: WorkspacesApi;
  readonly tracking: TrackingApi;
  readonly registry: RegistryApi;
  readonly data: DataApi;
  readonly training: TrainingApi;
  readonly studies: StudiesApi;
  /** Deployments: create, update weights, promote, roll back, status; and predictions through them. */
  readonly deployments: DeploymentsApi;
  /** Batch scoring jobs: a model over a dataset version into a new version. */
  readonly scoring: ScoringApi;
  private readonly headers: Record<string, string>;
  private readonly timeoutMs: number;
  private readonly retries: number;
  private readonly retryDelayMs: number;

  constructor(options: KilnClientOptions) {
    let parsed: URL;
    try {
      parsed = new URL(options.baseUrl);
    } catch {
      throw new KilnError('INVALID_PARAMETER_VALUE', `baseUrl: '${options.baseUrl}' is not a URL`, {
        field: 'baseUrl',
      });
    }
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
      throw new KilnError('INVALID_PARAMETER_VALUE', `baseUrl: must be http:// or https://, got '${options.baseUrl}'`, {
        field: 'baseUrl',
      });
    }
    this.baseUrl = `${parsed.origin}${parsed.pathname.replace(/\/+$/, '')}`;
    this.timeoutMs = nonNegative('timeoutMs', options.timeoutMs ?? 30_000);
    this.retries = nonNegative('retries', options.retries ?? 3);
    this.retryDelayMs = nonNegative('retryDelayMs', options.retryDelayMs ?? 200);
    this.headers = { accept: 'application/json' };
    if (options.token !== undefined) this.headers.authorization = `Bearer ${options.token}`;
    if (options.workspace !== undefined) this.headers['x-kiln-workspace'] = options.workspace;
    this.workspaces = new WorkspacesApi(this);
    this.tracking = new TrackingApi(this);
    this.registry = new RegistryApi(this);
    this.data = new DataApi(this);
    this.training = new TrainingApi(this);
    this.studies = new StudiesApi(this);
    this.deployments = new DeploymentsApi(this);
    this.scoring = new ScoringApi(this);
  }

  /** Creates a study and waits for it; resolves the final study with its best trial. */
  tune(spec: StudySpecInput, options?: StudyWaitOptions): Promise<Study> {
    return this.studies.tune(spec, options);
  }

  /** `GET /health/live`: resolves when the server process is up. */
  live(): Promise<LiveStatus> {
    return this.request<LiveStatus>('GET', '/health/live');
  }

  /**
   * `GET /health/ready`: resolves when its database, blob store and queue answer; otherwise
   * rejects with TEMPORARILY_UNAVAILABLE whose `details.checks` says which failed. Not retried:
   * it reports the state now.
   */
  ready(): Promise<ReadyStatus> {
    return this.request<ReadyStatus>('GET', '/health/ready', { retries: 0 });
  }

  /** `GET /api/v1/version`. */
  version(): Promise<VersionInfo> {
    return this.request<VersionInfo>('GET', '/api/v1/version');
  }

  /**
   * Sends one API request, with this client's headers, timeout and retry policy, and resolves
   * the parsed JSON body (undefined for an empty one, text for a non-JSON one). Every typed
   * method is built on it, and so can a context the client does not know yet.
   */
  async request<T>(method: string, path: string, options: RequestOptions = {}): Promise<T> {
    const { verb, url, response, text } = await this.exchange(method, path, options, false);
    return successBody(verb, url, response, text) as T;
  }

  /**
   * Like {@link request}, but resolves the successful `Response` with its body unread, for
   * downloads that should stream to disk rather than sit in memory. Errors are KilnErrors as usual.
   *
   * @example
   * const response = await kiln.stream('GET', `/api/v1/runs/${id}/artifacts/model.json`);
   * await pipeline(Readable.fromWeb(response.body), createWriteStream('model.json'));
   */
  async stream(method: string, path: string, options: RequestOptions = {}): Promise<Response> {
    return (await this.exchange(method, path, options, true)).response;
  }

  private async exchange(method: string, path: string, options: RequestOptions, streamResponse: boolean) {
    const verb = method.toUpperCase();
    const url = this.urlFor(path, options.query);
    const headers = { ...this.headers };
    let json: string | undefined;
    if (options.body !== undefined || options.raw !== undefined) {
      if (verb === 'GET' || verb === 'HEAD') {
        throw new KilnError('INVALID_PARAMETER_VALUE', `body: a ${verb} request cannot carry one; use query`, {
          field: 'body',
        });
      }
      if (options.raw === undefined) json = JSON.stringify(options.body);
      headers['content-type'] = options.raw?.contentType ?? 'application/json';
    }
    const idempotent = options.idempotent ?? IDEMPOTENT_METHODS.has(verb);
    const retries = idempotent ? (options.retries ?? this.retries) : 0;
    const timeoutMs = options.timeoutMs === undefined ? this.timeoutMs : nonNegative('timeoutMs', options.timeoutMs);
    const base = { method: verb, url, headers, timeoutMs, signal: options.signal, streamResponse };

    for (let retry = 0; ; retry++) {
      const input: AttemptInput = { ...base, body: options.raw === undefined ? json : options.raw.open() };
      const outcome = await attempt(input);
      if (outcome.kind === 'final') throw outcome.error;
      const canRetry = retry < retries;
      if (outcome.kind === 'network') {
        if (!canRetry) throw outcome.error;
        await this.pause(backoffMs(retry, this.retryDelayMs), input);
        continue;
      }
      const { response, text } = outcome;
      if (response.ok) return { verb, url, response, text };
      if (!canRetry || !RETRYABLE_STATUSES.has(response.status)) {
        throw errorFromResponse(verb, url, response.status, text);
      }
      const wait = retryAfterMs(response.headers.get('retry-after')) ?? backoffMs(retry, this.retryDelayMs);
      await this.pause(wait, input);
    }
  }

  private async pause(ms: number, input: { method: string; url: string; signal: AbortSignal | undefined }) {
    try {
      await sleep(ms, input.signal);
    } catch {
      throw new KilnError('CANCELLED', `${input.method} ${input.url} was cancelled`, { url: input.url });
    }
  }

  private urlFor(path: string, query: QueryParams | undefined): string {
    const url = new URL(`${this.baseUrl}${path.startsWith('/') ? path : `/${path}`}`);
    for (const [key, value] of Object.entries(query ?? {})) {
      if (Array.isArray(value)) for (const item of value) url.searchParams.append(key, item);
      else if (value !== undefined) url.searchParams.set(key, String(value));
    }
    return url.toString();
  }
}

function nonNegative(field: string, value: number): number {
  if (!Number.isFinite(value) || value < 0) {
    throw new KilnError('INVALID_PARAMETER_VALUE', `${field}: must be a non-negative number, got ${value}`, { field });
  }
  return value;
}
