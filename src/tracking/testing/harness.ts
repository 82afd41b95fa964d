import assert from 'node:assert/strict';
import { KilnError, type RequestContext, silentLogger } from '../../core/index.js';
import { type Database, migrate } from '../../store/index.js';
import type { TestDatabase } from '../../store/testing/databases.js';
import { TRACKING_MIGRATIONS } from '../migrations.js';
import { createTrackingServices, type TrackingServices } from '../service.js';

/** A migrated tracking database and services over it, for the conformance suites. */
export interface TrackingHarness extends TrackingServices {
  database: Database;
}

/** The artifact root the suites use. */
export const TEST_ARTIFACT_ROOT = 's3://kiln-test/artifacts';

/**
 * Opens `db`, applies the tracking migrations and builds the services.
 *
 * @example
 * const tracking = await openTracking(await target.create());
 */
export async function openTracking(db: TestDatabase, artifactRoot = TEST_ARTIFACT_ROOT): Promise<TrackingHarness> {
  const database = await db.open();
  const report = await migrate(database, TRACKING_MIGRATIONS, silentLogger());
  assert.equal(report.error, undefined, report.error?.message);
  return { database, ...createTrackingServices(database, { artifactRoot }) };
}

/** A request context in `workspace` (default `default`). */
export function contextIn(workspace = 'default', actor = 'tester'): RequestContext {
  return { actor, workspace, requestId: `test-${workspace}` };
}

/**
 * An `assert.rejects` validator: the error is a KilnError with `code` whose message matches
 * `pattern` when given.
 *
 * @example
 * await assert.rejects(runs.get(ctx, 'x'), rejectsWith('INVALID_PARAMETER_VALUE', /^run_id/));
 */
export function rejectsWith(code: string, pattern?: RegExp) {
  return (err: unknown): true => {
    assert.ok(err instanceof KilnError, `expected a KilnError, got ${String(err)}`);
    assert.equal(err.code, code, err.message);
    if (pattern !== undefined) assert.match(err.message, pattern);
    return true;
  };
}
