import { invalidParameter, KilnError, type Logger, type RequestContext } from '../../core/index.js';
import type { RegistryService } from '../../registry/index.js';
import { type Database, decodeKeysetToken, encodeKeysetToken, nowIso } from '../../store/index.js';
import type { DeploymentLiveStatus, DeploymentSpec, ShadowReport, TargetLiveStatus } from '../types.js';
import { checkDeploymentInput, checkDeploymentUpdate, parseDeploymentModelRef, promoteSpec } from './spec.js';
import {
  alreadyExists,
  type DeploymentRecord,
  type DeploymentRevision,
  DeploymentStore,
  type RevisionReason,
} from './store.js';

/**
 * What the deployments need from the serving runtime (`ServingRuntime` implements it): make a spec
 * live, take one down, and report live figures. `apply` loads and warms new targets before it
 * switches and throws (leaving the old configuration serving) when a load fails.
 */
export interface DeploymentRuntimePort {
  /** Creates or replaces the endpoint for `spec`; a failed load throws a KilnError and changes nothing. */
  apply(ctx: RequestContext, spec: DeploymentSpec): Promise<void>;
  /** Stops serving the deployment and drains it; a deployment not served is a no-op. */
  remove(workspace: string, name: string): Promise<void>;
  /** Live status in this process, undefined when it does not serve the deployment. */
  status(workspace: string, name: string): DeploymentLiveStatus | undefined;
  /** The shadow comparison so far, undefined when it does not serve the deployment. */
  shadowReport(workspace: string, name: string): ShadowReport | undefined;
}

/** The registry look-ups a deployment's targets are checked with (RegistryService has them). */
export type DeploymentRegistry = Pick<RegistryService, 'getModelVersion' | 'getModelVersionByAlias'>;

/** What a {@link DeploymentService} is built from. */
export interface DeploymentServiceDeps {
  database: Database;
  registry: DeploymentRegistry;
  runtime: DeploymentRuntimePort;
  logger: Logger;
}

/** A deployment as the API shows it: the stored spec and revision, and live status in this process. */
export interface DeploymentView {
  spec: DeploymentSpec;
  revision: number;
  /** Why the current revision exists. */
  reason: RevisionReason;
  createdBy: string;
  createdAt: string;
  /** The actor of the current revision. */
  updatedBy: string;
  updatedAt: string;
  status: DeploymentLiveStatus;
}

/** One page of a list. */
export interface DeploymentPage<T> {
  items: T[];
  nextPageToken?: string;
}

/** Paging of {@link DeploymentService.list} and {@link DeploymentService.revisions}. */
export interface PageOptions {
  /** 1 to 1000; default 100. */
  maxResults?: number;
  pageToken?: string;
}

/** What {@link DeploymentService.restoreAll} did, per deployment. */
export interface RestoreReport {
  restored: { workspace: string; name: string; revision: number }[];
  failed: { workspace: string; name: string; revision: number; error: string }[];
}

const DEFAULT_PAGE = 100;
const MAX_PAGE = 1000;

function pageSize(value: number | undefined): number {
  if (value === undefined) return DEFAULT_PAGE;
  if (!Number.isInteger(value) || value < 1 || value > MAX_PAGE) {
    throw invalidParameter('max_results', `must be a whole number from 1 to ${MAX_PAGE}`, value);
  }
  return value;
}

function notFound(name: string): KilnError {
  return new KilnError('RESOURCE_DOES_NOT_EXIST', `Deployment '${name}' does not exist`, { name });
}

/**
 * Runs one change per deployment at a time in this process, so two requests changing the same
 * deployment apply and persist in the same order (the store's revision check catches writers in
 * other processes).
 */
class KeyedQueue {
  private readonly tails = new Map<string, Promise<unknown>>();

  run<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const previous = this.tails.get(key) ?? Promise.resolve();
    const next = previous.then(fn, fn);
    const tail = next.catch(() => undefined);
    this.tails.set(key, tail);
    void tail.then(() => {
      if (this.tails.get(key) === tail) this.tails.delete(key);
    });
    return next;
  }
}

/**
 * Deployments as stored entities: a named, versioned spec (strategy, targets, batching, limits)
 * per workspace, kept live in the serving runtime. Every change is applied to the runtime first
 * (new models are loaded and warmed there; a failed load throws and nothing is stored) and then
 * stored as a new revision, so the database only ever names configurations that loaded. Targets
 * must name registered versions or aliases that exist (404 naming the target otherwise).
 *
 * @example
 * const deployments = new DeploymentService({ database, registry, runtime, logger });
 * await deployments.create(ctx, { name: 'flights', targets: [{ model: 'models:/flights@champion' }] });
 * await deployments.update(ctx, 'flights', { targets: [{ model: 'models:/flights@champion' }, { model: 'models:/flights/5', role: 'canary', weight: 10 }] });
 * await deployments.promote(ctx, 'flights'); // models:/flights/5 is now the single primary
 * await deployments.rollback(ctx, 'flights'); // back to the canary configuration, as revision 4
 */
export class DeploymentService {
  private readonly store: DeploymentStore;
  private readonly queue = new KeyedQueue();

  constructor(private readonly deps: DeploymentServiceDeps) {
    this.store = new DeploymentStore(deps.database);
  }

  /** Checks `input` (the create body), checks its models exist, makes it live, then stores revision 1. */
  async create(ctx: RequestContext, input: unknown): Promise<DeploymentView> {
    const spec = checkDeploymentInput(input, ctx.workspace);
    return this.queue.run(key(ctx.workspace, spec.name), async () => {
      if ((await this.store.get(ctx.workspace, spec.name)) !== undefined) throw alreadyExists(spec.name);
      await this.checkModels(ctx, spec);
      await this.deps.runtime.apply(ctx, spec);
      let record: DeploymentRecord;
      try {
        record = await this.store.create(spec, ctx.actor, nowIso());
      } catch (err) {
        await this.undo(ctx, spec, undefined);
        throw err;
      }
      this.deps.logger.info({ workspace: ctx.workspace, deployment: spec.name }, 'deployment created');
      return this.view(record);
    });
  }

  /** The deployment's spec, revision and live status. */
  async get(ctx: RequestContext, name: string): Promise<DeploymentView> {
    return this.view(await this.record(ctx, name));
  }

  /** The workspace's deployments by name, a page at a time. */
  async list(ctx: RequestContext, options: PageOptions = {}): Promise<DeploymentPage<DeploymentView>> {
    const limit = pageSize(options.maxResults);
    const after = options.pageToken === undefined ? undefined : decodeKeysetToken(options.pageToken, 'page_token');
    const records = await this.store.list(ctx.workspace, limit + 1, after);
    const page: DeploymentPage<DeploymentView> = { items: records.slice(0, limit).map((r) => this.view(r)) };
    const last = records[limit - 1];
    if (records.length > limit && last !== undefined) page.nextPageToken = encodeKeysetToken(last.name);
    return page;
  }

  /**
   * Changes strategy, targets, weights, batching or limits (see `checkDeploymentUpdate`): applied
   * to the runtime, then stored as the next revision.
   */
  async update(ctx: RequestContext, name: string, changes: unknown): Promise<DeploymentView> {
    return this.change(ctx, name, 'update', (current) => checkDeploymentUpdate(current.current.spec, changes));
  }

  /**
   * Promotes a canary, a shadow or an A/B variant to the single primary (see `promoteSpec`);
   * `target` names it by model reference and may be left out when there is only one candidate.
   */
  async promote(ctx: RequestContext, name: string, target?: string): Promise<DeploymentView> {
    return this.change(ctx, name, 'promote', (current) => promoteSpec(current.current.spec, target));
  }

  /**
   * Makes the spec of an earlier revision current again, as a new revision (history is never
   * rewritten). Without `revision`, the one before the current one, so two rollbacks in a row
   * toggle between the last two specs, as `kubectl rollout undo` does.
   */
  async rollback(ctx: RequestContext, name: string, revision?: number): Promise<DeploymentView> {
    if (revision !== undefined && (!Number.isSafeInteger(revision) || revision < 1)) {
      throw invalidParameter('revision', 'must be a positive whole number', revision);
    }
    return this.change(ctx, name, 'rollback', async (current) => {
      const wanted = revision ?? current.current.revision - 1;
      if (wanted < 1) {
        throw new KilnError(
          'INVALID_STATE',
          `Deployment '${name}' has no revision before ${current.current.revision}`,
          {
            name,
            revision: current.current.revision,
          },
        );
      }
      if (wanted === current.current.revision) {
        throw new KilnError('INVALID_STATE', `Revision ${wanted} of deployment '${name}' is already the current one`, {
          name,
          revision: wanted,
        });
      }
      const found = await this.store.revision(ctx.workspace, name, wanted);
      if (found === undefined) {
        throw new KilnError(
          'RESOURCE_DOES_NOT_EXIST',
          `revision: deployment '${name}' has no revision ${wanted} (revisions 1 to ${current.current.revision})`,
          { field: 'revision', name, revision: wanted },
        );
      }
      return { ...found.spec, workspace: ctx.workspace, name };
    });
  }

  /** The deployment's revisions, newest first, a page at a time. */
  async revisions(
    ctx: RequestContext,
    name: string,
    options: PageOptions = {},
  ): Promise<DeploymentPage<DeploymentRevision>> {
    await this.record(ctx, name);
    const limit = pageSize(options.maxResults);
    const before =
      options.pageToken === undefined
        ? undefined
        : Number(decodeKeysetToken(options.pageToken, 'page_token', (k) => /^[1-9]\d{0,9}$/.test(k)));
    const found = await this.store.revisions(ctx.workspace, name, limit + 1, before);
    const page: DeploymentPage<DeploymentRevision> = { items: found.slice(0, limit) };
    const last = found[limit - 1];
    if (found.length > limit && last !== undefined) page.nextPageToken = encodeKeysetToken(String(last.revision));
    return page;
  }

  /** Takes the deployment out of the runtime, then deletes it with its history. */
  async delete(ctx: RequestContext, name: string): Promise<void> {
    await this.queue.run(key(ctx.workspace, name), async () => {
      const current = await this.record(ctx, name);
      await this.deps.runtime.remove(ctx.workspace, name);
      try {
        await this.store.delete(ctx.workspace, name, current.current.revision);
      } catch (err) {
        await this.undo(ctx, current.current.spec, current.current.spec);
        throw err;
      }
      this.deps.logger.info({ workspace: ctx.workspace, deployment: name }, 'deployment deleted');
    });
  }

  /** Live status: per target the version serving now, readiness, requests, errors and latency. */
  async status(ctx: RequestContext, name: string): Promise<DeploymentLiveStatus> {
    return this.liveStatus(await this.record(ctx, name));
  }

  /**
   * How each shadow compared with the primary over the mirrored requests in this process; an
   * empty report when the deployment is not served here (yet).
   */
  async shadowReport(ctx: RequestContext, name: string): Promise<ShadowReport> {
    const record = await this.record(ctx, name);
    return (
      this.deps.runtime.shadowReport(ctx.workspace, name) ?? {
        deployment: name,
        since: record.updatedAt,
        comparisons: [],
      }
    );
  }

  /**
   * Makes every stored deployment of every workspace live again, one after another: what a
   * starting server does. A deployment that fails to load is logged and reported, and the rest
   * still start.
   *
   * @example
   * const report = await deployments.restoreAll(systemContext('start'));
   * report.failed; // [{ workspace, name, revision, error }] for the ones that did not load
   */
  async restoreAll(ctx: RequestContext): Promise<RestoreReport> {
    const report: RestoreReport = { restored: [], failed: [] };
    let after: { workspace: string; name: string } | undefined;
    for (;;) {
      const records = await this.store.listAll(DEFAULT_PAGE, after);
      for (const record of records) {
        const at = { workspace: record.workspace, name: record.name, revision: record.current.revision };
        try {
          await this.deps.runtime.apply({ ...ctx, workspace: record.workspace }, record.current.spec);
          report.restored.push(at);
        } catch (err) {
          const error = err instanceof Error ? err.message : String(err);
          this.deps.logger.error({ ...at, err }, 'deployment could not be restored; it is not served');
          report.failed.push({ ...at, error });
        }
      }
      const last = records[records.length - 1];
      if (records.length < DEFAULT_PAGE || last === undefined) break;
      after = { workspace: last.workspace, name: last.name };
    }
    this.deps.logger.info({ restored: report.restored.length, failed: report.failed.length }, 'deployments restored');
    return report;
  }

  /** One change: compute the next spec, check its models, apply it, store it as the next revision. */
  private change(
    ctx: RequestContext,
    name: string,
    reason: RevisionReason,
    next: (current: DeploymentRecord) => DeploymentSpec | Promise<DeploymentSpec>,
  ): Promise<DeploymentView> {
    return this.queue.run(key(ctx.workspace, name), async () => {
      const current = await this.record(ctx, name);
      const spec = await next(current);
      await this.checkModels(ctx, spec);
      await this.deps.runtime.apply(ctx, spec);
      let record: DeploymentRecord;
      try {
        record = await this.store.append(current, spec, reason, ctx.actor, nowIso());
      } catch (err) {
        await this.undo(ctx, spec, current.current.spec);
        throw err;
      }
      this.deps.logger.info(
        { workspace: ctx.workspace, deployment: name, revision: record.current.revision, reason },
        'deployment changed',
      );
      return this.view(record);
    });
  }

  /**
   * After the runtime took `applied` but storing it failed: puts the runtime back to what is
   * stored (`previous`, or nothing for a create), so what is served matches the database.
   */
  private async undo(ctx: RequestContext, applied: DeploymentSpec, previous: DeploymentSpec | undefined) {
    try {
      const stored = await this.store.get(ctx.workspace, applied.name);
      const target = stored?.current.spec ?? previous;
      if (stored === undefined && previous === undefined) await this.deps.runtime.remove(ctx.workspace, applied.name);
      else if (target !== undefined) await this.deps.runtime.apply(ctx, target);
    } catch (err) {
      this.deps.logger.error(
        { workspace: ctx.workspace, deployment: applied.name, err },
        'could not put the runtime back after a failed store; restart the server to resync',
      );
    }
  }

  /** Every target's model must exist in the registry: its version, or its alias. 404 naming the target. */
  private async checkModels(ctx: RequestContext, spec: DeploymentSpec): Promise<void> {
    for (const [index, target] of spec.targets.entries()) {
      const field = `targets[${index}].model`;
      const ref = parseDeploymentModelRef(target.model, field);
      try {
        const version =
          ref.kind === 'version'
            ? await this.deps.registry.getModelVersion(ctx, ref.name, ref.version)
            : await this.deps.registry.getModelVersionByAlias(ctx, ref.name, ref.alias);
        if (version.status !== 'READY') {
          throw new KilnError(
            'INVALID_STATE',
            `${field}: ${target.model} resolves to version ${version.version}, which is ${version.status}, not READY`,
            { field, model: target.model, status: version.status },
          );
        }
      } catch (err) {
        if (err instanceof KilnError && err.code === 'RESOURCE_DOES_NOT_EXIST') {
          throw new KilnError('RESOURCE_DOES_NOT_EXIST', `${field}: ${target.model} does not exist: ${err.message}`, {
            field,
            model: target.model,
          });
        }
        throw err;
      }
    }
  }

  private async record(ctx: RequestContext, name: string): Promise<DeploymentRecord> {
    if (typeof name !== 'string' || name.length === 0)
      throw invalidParameter('name', 'must be a non-empty string', name);
    const record = await this.store.get(ctx.workspace, name);
    if (record === undefined) throw notFound(name);
    return record;
  }

  private view(record: DeploymentRecord): DeploymentView {
    return {
      spec: record.current.spec,
      revision: record.current.revision,
      reason: record.current.reason,
      createdBy: record.createdBy,
      createdAt: record.createdAt,
      updatedBy: record.current.actor,
      updatedAt: record.updatedAt,
      status: this.liveStatus(record),
    };
  }

  /** The runtime's status, or for a deployment it does not serve, its targets as not ready. */
  private liveStatus(record: DeploymentRecord): DeploymentLiveStatus {
    const live = this.deps.runtime.status(record.workspace, record.name);
    if (live !== undefined) return live;
    return {
      name: record.name,
      ready: false,
      targets: record.current.spec.targets.map((t): TargetLiveStatus => {
        const ref = parseDeploymentModelRef(t.model, 'model');
        return {
          model: t.model,
          role: t.role,
          weight: t.weight,
          version: ref.kind === 'version' ? String(ref.version) : '',
          ready: false,
          requests: 0,
          errors: 0,
          inFlight: 0,
          queueDepth: 0,
          latencyMs: { p50: 0, p99: 0 },
        };
      }),
    };
  }
}

function key(workspace: string, name: string): string {
  return `${workspace}\u0000${name}`;
}
