import assert from 'node:assert/strict';
import { hexId, type RequestContext, silentLogger } from '../../core/index.js';
import { type Database, migrate } from '../../store/index.js';
import type { DatabaseTarget, TestDatabase } from '../../store/testing/databases.js';
import type { RunLookup } from '../change.js';
import type { RegistryEvent } from '../events.js';
import { REGISTRY_MIGRATIONS } from '../migrations.js';
import { RegistryService } from '../service.js';
import { KyselyRegistryStore } from '../store/kysely.js';

/** The artifact root the test services use; nothing is read from it. */
export const TEST_ARTIFACT_ROOT = 'file:///srv/kiln-test/artifacts';

/**
 * A migrated database on one engine with a registry service over it, runs kept in a map (the
 * {@link RunLookup} port's test double) and every published event collected in `published`.
 */
export interface RegistryFixture {
  readonly database: Database;
  readonly service: RegistryService;
  /** run id → artifact URI, in the default workspace unless added with `addRun(…, workspace)`. */
  addRun(workspace?: string): string;
  readonly published: RegistryEvent[];
  /** A second service over its own database handle (another pool, or another SQLite connection). */
  openAnother(): Promise<RegistryService>;
  cleanup(): Promise<void>;
}

/** A request context in `workspace` (default `default`) for `actor`. */
export function contextFor(workspace = 'default', actor = 'alice'): RequestContext {
  return { actor, workspace, requestId: `req-${hexId().slice(0, 8)}` };
}

/** 2027-01-15T08:00:00Z: where the fixture's clock starts. */
export const CLOCK_START = 1_800_000_000_000;

/**
 * Opens a fresh database on `target`, applies the registry migrations and builds the service. Its
 * clock starts at {@link CLOCK_START} and advances one second per change, so times are distinct
 * and orderings by time are deterministic.
 */
export async function openRegistry(target: DatabaseTarget, poolSize = 8): Promise<RegistryFixture> {
  const db: TestDatabase = await target.create();
  try {
    const database = await db.open({ poolSize });
    const report = await migrate(database, REGISTRY_MIGRATIONS, silentLogger());
    assert.equal(report.error, undefined, report.error?.message);
    const runs = new Map<string, { workspace: string; artifactUri: string }>();
    const lookup: RunLookup = {
      async getRun(ctx, runId) {
        const run = runs.get(runId);
        return run === undefined || run.workspace !== ctx.workspace
          ? undefined
          : { runId, artifactUri: run.artifactUri };
      },
    };
    let ticks = 0;
    const clock = () => CLOCK_START + 1000 * ticks++;
    const build = (handle: Database) =>
      new RegistryService(new KyselyRegistryStore(handle), {
        artifactRoot: TEST_ARTIFACT_ROOT,
        runs: lookup,
        logger: silentLogger(),
        clock,
      });
    const service = build(database);
    const published: RegistryEvent[] = [];
    service.onEvent((event) => {
      published.push(event);
    });
    return {
      database,
      service,
      published,
      addRun(workspace = 'default') {
        const runId = hexId();
        runs.set(runId, { workspace, artifactUri: `mlflow-artifacts:/1/${runId}/artifacts` });
        return runId;
      },
      openAnother: async () => build(await db.open({ poolSize })),
      cleanup: () => db.cleanup(),
    };
  } catch (err) {
    await db.cleanup();
    throw err;
  }
}

/** Awaits `promise` and asserts it rejects with a KilnError of `code` whose message matches `message`. */
export async function rejectsWith(promise: Promise<unknown>, code: string, message?: RegExp): Promise<void> {
  await assert.rejects(promise, (err: unknown) => {
    assert.equal((err as { code?: unknown }).code, code, String(err));
    if (message !== undefined) assert.match((err as Error).message, message);
    return true;
  });
}
