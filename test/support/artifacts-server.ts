// A listening Kiln app for the artifact HTTP tests. Requests go over a real socket with the path
// sent byte for byte (node:http does not normalise `..` or `%2e`, unlike `inject` or `fetch`), so
// the server sees exactly what an attacker would send.
import { rm } from 'node:fs/promises';
import { request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import { mlflowArtifactRoutes } from '../../src/compat/mlflow/artifacts.js';
import { type KilnConfig, silentLogger } from '../../src/core/index.js';
import { buildApp, type KilnApp, openStores, type Stores } from '../../src/server/index.js';
import { testConfig } from '../../src/server/testing/app.js';
import { ArtifactService, artifactRoutes, createTrackingServices } from '../../src/tracking/index.js';

/** One HTTP exchange. */
export interface Exchange {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
  /** The body parsed as JSON, or undefined when it is not JSON. */
  json: Record<string, unknown> | undefined;
}

/** Limit of the extra `/limited/...` Kiln artifact routes mounted for the size-limit tests. */
export const SMALL_LIMIT = 1024;

export interface ArtifactServer {
  app: KilnApp;
  stores: Stores;
  config: KilnConfig;
  /** The port it listens on at 127.0.0.1. */
  port: number;
  /** An artifact service over the server's stores, for writing fixtures directly. */
  artifacts: ArtifactService;
  send(
    method: string,
    path: string,
    options?: { headers?: Record<string, string | number>; body?: Buffer | string | Readable },
  ): Promise<Exchange>;
  /** Starts a run in experiment 0 and answers its id. */
  startRun(): Promise<string>;
  close(): Promise<void>;
}

/**
 * Builds the whole server app on a fresh KILN_HOME and listens on 127.0.0.1. Also mounts a copy
 * of the MLflow artifact plugin under
 * `/budget` over a service with a tiny scan budget, and Kiln routes under `/limited` with a 1 KiB
 * upload limit.
 */
export async function startArtifactServer(): Promise<ArtifactServer> {
  const config = await testConfig();
  const logger = silentLogger();
  const stores = await openStores(config, logger, { migrate: true });
  const app = await buildApp({ config, logger, stores });
  const runs = createTrackingServices(stores.database, { artifactRoot: config.artifactsUrl }).runs;
  const artifacts = new ArtifactService(stores.blobs, runs, { artifactRoot: config.artifactsUrl });
  const budget = new ArtifactService(stores.blobs, runs, { artifactRoot: config.artifactsUrl, scanBudget: 5 });
  await app.register(mlflowArtifactRoutes, { prefix: '/budget', artifacts: budget });
  await app.register(artifactRoutes, { prefix: '/limited', service: artifacts, maxArtifactBytes: SMALL_LIMIT });
  await app.listen({ port: 0, host: '127.0.0.1' });
  const { port } = app.server.address() as AddressInfo;

  const send: ArtifactServer['send'] = (method, path, options = {}) =>
    new Promise((resolve, reject) => {
      const req = httpRequest({ host: '127.0.0.1', port, method, path, headers: options.headers }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('error', reject);
        res.on('end', () => {
          const body = Buffer.concat(chunks);
          let json: Record<string, unknown> | undefined;
          try {
            json = JSON.parse(body.toString('utf8'));
          } catch {
            json = undefined;
          }
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body, json });
        });
      });
      req.on('error', reject);
      const { body } = options;
      if (body instanceof Readable) body.pipe(req);
      else req.end(body);
    });

  return {
    app,
    stores,
    config,
    port,
    artifacts,
    send,
    async startRun() {
      const res = await send('POST', '/api/v1/runs', {
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ experiment_id: '0' }),
      });
      const run = res.json?.run as { info: { run_id: string } } | undefined;
      if (res.status !== 201 || run === undefined) throw new Error(`run not created: ${res.body}`);
      return run.info.run_id;
    },
    async close() {
      await app.close();
      await stores.close();
      await rm(config.home, { recursive: true, force: true });
    },
  };
}
