import type { Logger } from '../core/index.js';

/**
 * What changed in the registry. The names follow MLflow's webhook events where MLflow has one
 * (`registered_model.created`, `model_version_alias.created`…), so webhooks can reuse them.
 */
export type RegistryEventType =
  | 'registered_model.created'
  | 'registered_model.renamed'
  | 'registered_model.updated'
  | 'registered_model.deleted'
  | 'registered_model_tag.set'
  | 'registered_model_tag.deleted'
  | 'model_version.created'
  | 'model_version.updated'
  | 'model_version.deleted'
  | 'model_version.stage_transitioned'
  | 'model_version_tag.set'
  | 'model_version_tag.deleted'
  | 'model_version_alias.created'
  | 'model_version_alias.moved'
  | 'model_version_alias.deleted';

/** Every event type. */
export const REGISTRY_EVENT_TYPES: readonly RegistryEventType[] = [
  'registered_model.created',
  'registered_model.renamed',
  'registered_model.updated',
  'registered_model.deleted',
  'registered_model_tag.set',
  'registered_model_tag.deleted',
  'model_version.created',
  'model_version.updated',
  'model_version.deleted',
  'model_version.stage_transitioned',
  'model_version_tag.set',
  'model_version_tag.deleted',
  'model_version_alias.created',
  'model_version_alias.moved',
  'model_version_alias.deleted',
];

/** An event as a change describes it, before the store gives it an id and a time. */
export interface RegistryChange {
  readonly type: RegistryEventType;
  /** The model's name after the change (the new name for a rename). */
  readonly model: string;
  readonly version?: number;
  readonly alias?: string;
  /** Facts a consumer needs without a second read, e.g. `{ from_version: 2 }` for a moved alias. */
  readonly payload: Readonly<Record<string, unknown>>;
}

/**
 * One registry change, recorded in the same transaction as the change itself. Ids increase in
 * commit order, so a consumer that polls with `afterId` sees every event exactly once.
 *
 * @example
 * const events = await registry.listEvents(ctx, { afterId: lastSeen, model: 'churn' });
 * for (const e of events) if (e.type === 'model_version_alias.moved' && e.alias === 'champion') redeploy(e.version);
 */
export interface RegistryEvent extends RegistryChange {
  readonly id: number;
  readonly workspace: string;
  readonly actor: string;
  readonly requestId: string;
  /** ISO-8601 UTC. */
  readonly createdAt: string;
}

/**
 * Called once per committed event: a change's events in id order, changes as their commits
 * return. Its errors are logged, never passed to the writer. Use `listEvents` for a gap-free
 * ordered feed across processes.
 */
export type RegistryListener = (event: RegistryEvent) => void | Promise<void>;

/**
 * The in-process subscribers. The service publishes only after the transaction that recorded the
 * events commits, so a listener never sees a change that was rolled back.
 *
 * @example
 * const hub = new RegistryEventHub(logger);
 * const off = hub.subscribe((event) => console.log(event.type));
 * hub.publish(events);
 * off();
 */
export class RegistryEventHub {
  readonly #listeners = new Set<RegistryListener>();

  constructor(private readonly logger?: Logger) {}

  /** Adds a listener; the returned function removes it. */
  subscribe(listener: RegistryListener): () => void {
    // Wrapped so that subscribing the same function twice gives two independent subscriptions.
    const entry: RegistryListener = (event) => listener(event);
    this.#listeners.add(entry);
    return () => {
      this.#listeners.delete(entry);
    };
  }

  /** Hands each event to every listener; a listener that throws or rejects does not stop the others. */
  publish(events: readonly RegistryEvent[]): void {
    for (const event of events) {
      for (const listener of [...this.#listeners]) {
        try {
          const result = listener(event);
          if (result instanceof Promise) result.catch((err: unknown) => this.#report(err, event));
        } catch (err) {
          this.#report(err, event);
        }
      }
    }
  }

  #report(err: unknown, event: RegistryEvent): void {
    this.logger?.warn({ err, eventId: event.id, type: event.type }, 'registry event listener failed');
  }
}
