import type { Registry } from 'prom-client';
import { invalidParameter, KilnError, type Logger, type RequestContext, systemContext } from '../../core/index.js';
import { formatModelRef, parseModelRef, warmPredictor } from '../predictors/index.js';
import type {
  DeploymentLiveStatus,
  DeploymentSpec,
  EndpointDirectory,
  ModelLoader,
  ModelRef,
  PredictionSink,
  ServedEndpoint,
  ShadowReport,
} from '../types.js';
import type { AliasEvent, AliasEventSource } from './alias-events.js';
import { DeploymentEndpoint } from './endpoint.js';
import { type LiveGauge, ServingMetrics } from './metrics.js';
import { planRoutes } from './plan.js';
import { FastRandom } from './routing.js';
import { TargetSlot } from './slot.js';

/** What a {@link ServingRuntime} is built from. */
export interface ServingRuntimeDeps {
  /** Resolves aliases and loads model versions (registry-backed in the server, file-backed in `kiln serve <path>`). */
  loader: ModelLoader;
  /** The prom-client registry the serving series are registered on (the one `/metrics` serves). */
  metrics: Registry;
  /** Where sampled requests and shadow answers are logged; nothing is logged without one. */
  sink?: PredictionSink;
  logger: Logger;
  /** Alias moves to follow; without it `models:/name@alias` is resolved once, at apply. */
  aliases?: AliasEventSource;
  /** Epoch ms for record timestamps and report times; default `Date.now`. Latency uses `performance.now`. */
  clock?: () => number;
  /** Seed of the random split for requests without a routing key (tests and benchmarks replay with it). */
  seed?: number;
}

/** A sink that counts what it had to drop, as {@link BufferedPredictionLog} does. */
interface CountingSink extends PredictionSink {
  readonly dropped: number;
}

function countsDrops(sink: PredictionSink | undefined): sink is CountingSink {
  return sink !== undefined && typeof (sink as Partial<CountingSink>).dropped === 'number';
}

/** A target of a spec after its reference is resolved. */
interface Resolved {
  index: number;
  ref: ModelRef;
  resolved: ModelRef;
  key: string;
}

/**
 * The deployments this process serves. `apply` loads and warms every model a spec names that is
 * not already loaded, then swaps the deployment's routing table in one assignment and drains the
 * versions no longer named (waits until no request uses them, then closes them); if any load
 * fails, it throws and the old table keeps serving untouched. Deployments whose targets follow an
 * alias (`models:/churn@champion`) reload when the alias moves: the new version is loaded and
 * warmed, traffic switches atomically and the old version drains, so no request fails during the
 * switch. It is the {@link EndpointDirectory} the protocol routes look endpoints up in.
 *
 * @example
 * const runtime = new ServingRuntime({ loader, metrics: registry, logger, sink, aliases: registryAliasEvents(registryService) });
 * await runtime.apply(ctx, { workspace: 'default', name: 'churn', strategy: 'canary',
 *   targets: [{ model: 'models:/churn@champion', role: 'primary', weight: 0 }, { model: 'models:/churn/5', role: 'canary', weight: 10 }],
 *   maxQueue: 1000, timeoutMs: 10_000, input: { extraColumns: 'ignore', maxBatchRows: 10_000 }, logging: { sampleRate: 1 } });
 * const answer = await runtime.get('default', 'churn')?.infer({ table, requestId, protocol: 'kiln' });
 */
export class ServingRuntime implements EndpointDirectory {
  readonly #deps: ServingRuntimeDeps;
  readonly #metrics: ServingMetrics;
  readonly #random: FastRandom;
  readonly #clock: () => number;
  /** workspace → name → endpoint. */
  readonly #endpoints = new Map<string, Map<string, DeploymentEndpoint>>();
  /** Per deployment, the tail of its chain of changes: applies, alias reloads and removal run one at a time. */
  readonly #locks = new Map<string, Promise<unknown>>();
  /** `workspace\0model\0alias` → deployments (`workspace\0name`) that follow it. */
  readonly #followers = new Map<string, Set<string>>();
  /** Deployment → the alias keys it follows. */
  readonly #following = new Map<string, Set<string>>();
  readonly #unsubscribe: (() => void) | undefined;
  #ownDrops = 0;
  #closed = false;

  constructor(deps: ServingRuntimeDeps) {
    this.#deps = deps;
    this.#clock = deps.clock ?? Date.now;
    this.#random = new FastRandom(deps.seed);
    this.#metrics = new ServingMetrics(deps.metrics, {
      live: () => this.#live(),
      dropped: () => this.#ownDrops + (countsDrops(deps.sink) ? deps.sink.dropped : 0),
    });
    this.#unsubscribe = deps.aliases?.subscribe((event) => this.#onAliasEvent(event));
  }

  /**
   * Creates or updates a deployment. Resolves once the new configuration serves and the versions it
   * dropped are drained and closed. Throws (a KilnError; 404 for an unknown model or alias, 400 for
   * a bad reference or a model that fails to load or warm, naming `targets[i].model`) and leaves
   * the old configuration serving when any target cannot be loaded.
   */
  apply(ctx: RequestContext, spec: DeploymentSpec): Promise<void> {
    if (this.#closed) return Promise.reject(new KilnError('INVALID_STATE', 'the serving runtime is closed'));
    try {
      if (typeof spec.name !== 'string' || spec.name === '') throw invalidParameter('name', 'must name the deployment');
      planRoutes(spec);
    } catch (err) {
      return Promise.reject(err);
    }
    return this.#exclusive(deploymentKey(spec.workspace, spec.name), () => this.#apply(ctx, spec));
  }

  /** Stops serving a deployment: requests get 404 from now on, in-flight ones finish, then its models close. */
  remove(workspace: string, name: string): Promise<void> {
    const key = deploymentKey(workspace, name);
    return this.#exclusive(key, async () => {
      const endpoint = this.#endpoints.get(workspace)?.get(name);
      if (endpoint === undefined) return;
      this.#endpoints.get(workspace)?.delete(name);
      this.#follow(key, new Set());
      const table = endpoint.clear();
      if (table === undefined) return;
      await this.#retire(new Set([...table.answering, ...table.shadows].map((t) => t.slot)), table.spec.timeoutMs);
    });
  }

  get(workspace: string, name: string): ServedEndpoint | undefined {
    return this.#endpoints.get(workspace)?.get(name);
  }

  list(workspace: string): ServedEndpoint[] {
    return [...(this.#endpoints.get(workspace)?.values() ?? [])];
  }

  /** Live figures per target (requests, errors, in flight, queue, p50 / p99 latency); undefined for an unknown deployment. */
  status(workspace: string, name: string): DeploymentLiveStatus | undefined {
    return this.#endpoints.get(workspace)?.get(name)?.status();
  }

  /** The comparison of each shadow target against the answers returned; undefined for an unknown deployment. */
  shadowReport(workspace: string, name: string): ShadowReport | undefined {
    return this.#endpoints.get(workspace)?.get(name)?.shadowReport();
  }

  /** Stops following aliases, removes every deployment (draining each) and refuses further applies. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#unsubscribe?.();
    const all = [...this.#endpoints.entries()].flatMap(([workspace, byName]) =>
      [...byName.keys()].map((name) => [workspace, name] as const),
    );
    await Promise.all(all.map(([workspace, name]) => this.remove(workspace, name)));
  }

  async #apply(ctx: RequestContext, spec: DeploymentSpec): Promise<void> {
    const key = deploymentKey(spec.workspace, spec.name);
    let endpoint = this.#endpoints.get(spec.workspace)?.get(spec.name);
    const created = endpoint === undefined;
    if (endpoint === undefined) {
      endpoint = new DeploymentEndpoint(spec.workspace, spec.name, {
        metrics: this.#metrics,
        sink: this.#deps.sink,
        logger: this.#deps.logger,
        clock: this.#clock,
        random: this.#random,
        dropped: () => {
          this.#ownDrops++;
        },
      });
      let byName = this.#endpoints.get(spec.workspace);
      if (byName === undefined) {
        byName = new Map();
        this.#endpoints.set(spec.workspace, byName);
      }
      // Visible (not ready, 503) while its first models load, so probes see "loading", not "unknown".
      byName.set(spec.name, endpoint);
    }
    const previous = endpoint.table;
    const fresh: TargetSlot[] = [];
    let slots: TargetSlot[];
    let aliases: Set<string>;
    try {
      const resolved = await this.#resolveAll(ctx, spec);
      aliases = new Set(
        resolved.flatMap((r) => (r.ref.kind === 'alias' ? [aliasKey(spec.workspace, r.ref.name, r.ref.alias)] : [])),
      );
      const reusable = new Map<string, TargetSlot>();
      for (const route of previous ? [...previous.answering, ...previous.shadows] : []) {
        if (!route.slot.closed) reusable.set(route.slot.key, route.slot);
      }
      const loading = new Map<string, Promise<TargetSlot>>();
      for (const r of resolved) {
        if (reusable.has(r.key) || loading.has(r.key)) continue;
        loading.set(r.key, this.#load(ctx, spec, r, fresh));
      }
      const settled = await Promise.allSettled(loading.values());
      const failure = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected');
      if (failure !== undefined) throw failure.reason;
      const loaded = new Map<string, TargetSlot>();
      for (const slot of fresh) loaded.set(slot.key, slot);
      slots = resolved.map((r) => (reusable.get(r.key) ?? loaded.get(r.key)) as TargetSlot);
      endpoint.swap(spec, slots);
    } catch (err) {
      await Promise.all(fresh.map((slot) => slot.close(this.#deps.logger)));
      if (created) this.#endpoints.get(spec.workspace)?.delete(spec.name);
      throw err;
    }
    this.#follow(key, aliases);
    if (previous === undefined) return;
    const kept = new Set(slots);
    const retired = new Set<TargetSlot>();
    for (const route of [...previous.answering, ...previous.shadows]) {
      if (!kept.has(route.slot)) retired.add(route.slot);
    }
    await this.#retire(retired, previous.spec.timeoutMs);
  }

  async #resolveAll(ctx: RequestContext, spec: DeploymentSpec): Promise<Resolved[]> {
    const refs = spec.targets.map((target, index) => parseModelRef(target.model, `targets[${index}].model`));
    if (refs.some((ref) => ref.kind === 'alias') && this.#deps.aliases?.watch !== undefined) {
      try {
        await this.#deps.aliases.watch(spec.workspace);
      } catch (err) {
        this.#deps.logger.warn(
          { err, workspace: spec.workspace },
          'could not start following the registry event log; alias moves made by other processes will be missed',
        );
      }
    }
    return Promise.all(
      refs.map(async (ref, index) => {
        const resolved = await this.#deps.loader.resolve(ctx, ref);
        return { index, ref, resolved, key: formatModelRef(resolved) };
      }),
    );
  }

  /** Loads and warms one model into a new slot (added to `fresh` as soon as it exists, so a failure elsewhere closes it). */
  async #load(ctx: RequestContext, spec: DeploymentSpec, r: Resolved, fresh: TargetSlot[]): Promise<TargetSlot> {
    const field = `targets[${r.index}].model`;
    const started = performance.now();
    let slot: TargetSlot | undefined;
    try {
      const loaded = await this.#deps.loader.load(ctx, r.resolved);
      slot = new TargetSlot(r.key, loaded, this.#metrics, {
        workspace: spec.workspace,
        deployment: spec.name,
        version: loaded.version,
      });
      fresh.push(slot);
      await warmPredictor(loaded.predictor);
    } catch (err) {
      // The loader's own refusals (404 unknown model, 400 corrupt file) keep their code but name the
      // target; anything else, and any failure of the warm-up predict, is this target's model failing to serve.
      if (err instanceof KilnError && slot === undefined) {
        const inner = err.details?.field;
        const problem =
          typeof inner === 'string' && err.message.startsWith(`${inner}: `)
            ? err.message.slice(inner.length + 2)
            : err.message;
        throw new KilnError(err.code, `${field}: ${problem}`, { ...err.details, field, model: r.key }, { cause: err });
      }
      const message = err instanceof Error ? err.message : String(err);
      throw new KilnError(
        'INVALID_PARAMETER_VALUE',
        `${field}: ${r.key} could not be loaded and warmed: ${message}`,
        { field, model: r.key },
        { cause: err },
      );
    }
    slot.ready = true;
    this.#deps.logger.info(
      {
        deployment: spec.name,
        workspace: spec.workspace,
        model: r.key,
        flavour: slot.model.flavour,
        bytes: slot.model.sizeBytes,
        ms: Math.round(performance.now() - started),
      },
      'model loaded and warmed',
    );
    return slot;
  }

  /** Waits until no request uses each slot (at most twice the request timeout), then closes it. */
  async #retire(slots: ReadonlySet<TargetSlot>, timeoutMs: number): Promise<void> {
    const limit = Number.isFinite(timeoutMs) && timeoutMs > 0 ? timeoutMs * 2 + 1000 : 30_000;
    await Promise.all(
      [...slots].map(async (slot) => {
        const drained = await slot.drain(limit);
        if (!drained) {
          this.#deps.logger.warn(
            { model: slot.key, active: slot.active },
            'a retired model still had requests after the drain limit; closing it anyway',
          );
        }
        await slot.close(this.#deps.logger);
      }),
    );
  }

  #follow(deployment: string, aliases: Set<string>): void {
    for (const alias of this.#following.get(deployment) ?? []) {
      const followers = this.#followers.get(alias);
      followers?.delete(deployment);
      if (followers?.size === 0) this.#followers.delete(alias);
    }
    if (aliases.size === 0) {
      this.#following.delete(deployment);
      return;
    }
    this.#following.set(deployment, aliases);
    for (const alias of aliases) {
      let followers = this.#followers.get(alias);
      if (followers === undefined) {
        followers = new Set();
        this.#followers.set(alias, followers);
      }
      followers.add(deployment);
    }
  }

  #onAliasEvent(event: AliasEvent): void {
    if (this.#closed) return;
    const followers = this.#followers.get(aliasKey(event.workspace, event.name, event.alias));
    if (followers === undefined) return;
    for (const key of followers) {
      const [workspace, name] = key.split('\0') as [string, string];
      void this.#exclusive(key, () => this.#reload(workspace, name, event));
    }
  }

  /** Re-applies a deployment's current spec after an alias it follows moved; a failure keeps the old version serving. */
  async #reload(workspace: string, name: string, event: AliasEvent): Promise<void> {
    const spec = this.#endpoints.get(workspace)?.get(name)?.table?.spec;
    if (spec === undefined || this.#closed) return;
    const ctx = systemContext(`alias-${event.name}-${event.alias}`, workspace);
    try {
      await this.#apply(ctx, spec);
    } catch (err) {
      this.#deps.logger.error(
        { err, deployment: name, workspace, model: event.name, alias: event.alias },
        'the alias moved but its new version could not be served; the previous version keeps serving',
      );
    }
  }

  #exclusive<T>(key: string, work: () => Promise<T>): Promise<T> {
    const tail = this.#locks.get(key) ?? Promise.resolve();
    const run = tail.then(work, work);
    const settled = run.then(
      () => {},
      () => {},
    );
    this.#locks.set(key, settled);
    void settled.then(() => {
      if (this.#locks.get(key) === settled) this.#locks.delete(key);
    });
    return run;
  }

  *#live(): Iterable<LiveGauge> {
    for (const byName of this.#endpoints.values()) {
      for (const endpoint of byName.values()) {
        const table = endpoint.table;
        if (table === undefined) continue;
        const seen = new Set<TargetSlot>();
        for (const { slot } of [...table.answering, ...table.shadows]) {
          if (seen.has(slot)) continue;
          seen.add(slot);
          yield { labels: slot.labels, queueDepth: slot.queueDepth, inFlight: slot.inFlight };
        }
      }
    }
  }
}

function deploymentKey(workspace: string, name: string): string {
  return `${workspace}\0${name}`;
}

function aliasKey(workspace: string, model: string, alias: string): string {
  return `${workspace}\0${model}\0${alias}`;
}
