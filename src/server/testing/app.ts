import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type KilnConfig, loadConfig, silentLogger } from '../../core/index.js';
import { buildApp } from '../app.js';
import type { KilnApp } from '../kiln-app.js';
import { openStores, type Stores } from '../stores.js';

/** A configuration on a fresh temp KILN_HOME: SQLite, file artifacts, local queue, port 0. */
export async function testConfig(env: Record<string, string> = {}): Promise<KilnConfig> {
  const home = await mkdtemp(join(tmpdir(), 'kiln-server-'));
  return loadConfig({ KILN_HOME: home, KILN_PORT: '0', KILN_LOG_LEVEL: 'silent', ...env });
}

/** A built, migrated app on its own temp home, for `inject` tests. */
export interface TestApp {
  app: KilnApp;
  stores: Stores;
  config: KilnConfig;
  /** Closes the app and the stores and deletes the temp home. */
  close(): Promise<void>;
}

/**
 * Builds a fresh app for one test file. `prepare` may add routes before the app is ready.
 *
 * @example
 * const t = await createTestApp({ KILN_BODY_LIMIT: '1kb' });
 * after(() => t.close());
 * const res = await t.app.inject({ method: 'GET', url: '/health/live' });
 */
export async function createTestApp(
  env: Record<string, string> = {},
  prepare?: (app: KilnApp) => void,
): Promise<TestApp> {
  const config = await testConfig(env);
  const logger = silentLogger();
  const stores = await openStores(config, logger, { migrate: true });
  const app = await buildApp({ config, logger, stores, readyTimeoutMs: 1000 });
  prepare?.(app);
  await app.ready();
  return {
    app,
    stores,
    config,
    async close() {
      await app.close();
      await stores.close();
      await rm(config.home, { recursive: true, force: true });
    },
  };
}
