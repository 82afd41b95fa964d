/**
 * A real `kiln server` for the serving end-to-end tests: the app built as `kiln server` builds it
 * (SQLite on a temp KILN_HOME, file artifacts, the local queue and its workers), driven through its
 * HTTP surface only — datasets, runs and artifacts, the registry, deployments, scoring jobs and the
 * three prediction protocols under `/serve/<deployment>/…`.
 */
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { createTestApp, type TestApp } from '../../src/server/testing/app.js';

/** A JSON answer; its shape is what the assertions check. */
// biome-ignore lint/suspicious/noExplicitAny: responses are untyped JSON whose fields the tests assert one by one
export type Wire = Record<string, any>;

/** One HTTP answer: status, headers and the body parsed as JSON when it is JSON. */
export interface Answer {
  status: number;
  headers: Record<string, string | string[] | number | undefined>;
  body: Wire;
  text: string;
}

/** How long a wait for the server (a job, a readiness, a report) may take before the test fails. */
const WAIT_LIMIT_MS = 120_000;

type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

/**
 * The server under test and the few HTTP conversations every serving test needs.
 *
 * @example
 * const s = await ServingServer.start();
 * after(() => s.close());
 * const run = await s.createRun('models');
 * await s.upload(run, 'model/model.onnx', bytes);
 * await s.registerVersion('penguins', `runs:/${run}/model`, run); // 1
 */
export class ServingServer {
  #url: string | undefined;

  private constructor(readonly t: TestApp) {}

  /** A fresh app on its own temp home (migrated, workers started, deployments restored). */
  static async start(): Promise<ServingServer> {
    return new ServingServer(await createTestApp());
  }

  /** Listens on a free port of 127.0.0.1 (once) and answers its base URL, for tests over real sockets. */
  async listen(): Promise<string> {
    this.#url ??= await this.t.app.listen({ host: '127.0.0.1', port: 0 });
    return this.#url;
  }

  async close(): Promise<void> {
    await this.t.close();
  }

  /** A request through `app.inject`: a JSON payload, or a string sent as is (with its content type in `headers`). */
  async call(method: Method, url: string, payload?: unknown, headers: Record<string, string> = {}): Promise<Answer> {
    const res = await this.t.app.inject({
      method,
      url,
      headers,
      ...(payload === undefined ? {} : { payload: payload as string | object }),
    });
    let body: Wire = {};
    if (String(res.headers['content-type'] ?? '').includes('json') && res.body !== '') body = res.json() as Wire;
    return { status: res.statusCode, headers: res.headers, body, text: res.body };
  }

  /** Like {@link call}, failing the test unless the status is `expected`. */
  async ok(method: Method, url: string, payload?: unknown, expected = 200): Promise<Wire> {
    const res = await this.call(method, url, payload);
    assert.equal(res.status, expected, `${method} ${url} → ${res.status}: ${res.text}`);
    return res.body;
  }

  /** Creates dataset `name` and ingests the file at `path` as its next version. */
  async ingest(name: string, path: string): Promise<Wire> {
    const created = await this.call('POST', '/api/v1/datasets', { name });
    assert.ok(created.status === 201 || created.body.error_code === 'RESOURCE_ALREADY_EXISTS', created.text);
    return (await this.ok('POST', `/api/v1/datasets/${name}/versions`, { path }, 201)).version ?? {};
  }

  /** Starts a run in the default experiment; answers its id. */
  async createRun(name: string): Promise<string> {
    const body = await this.ok('POST', '/api/v1/runs', { experiment_id: '0', run_name: name }, 201);
    return body.run.info.run_id as string;
  }

  /** Uploads `bytes` as the run artifact at `path`. */
  async upload(runId: string, path: string, bytes: Uint8Array): Promise<void> {
    const res = await this.t.app.inject({
      method: 'PUT',
      url: `/api/v1/runs/${runId}/artifacts/${path}`,
      headers: { 'content-type': 'application/octet-stream' },
      payload: Buffer.from(bytes),
    });
    assert.equal(res.statusCode, 200, `upload ${path}: ${res.body}`);
  }

  /** Uploads every file (name → bytes) under the run artifact directory `dir`. */
  async uploadAll(runId: string, dir: string, files: ReadonlyMap<string, Uint8Array>): Promise<void> {
    for (const [name, bytes] of files) await this.upload(runId, `${dir}/${name}`, bytes);
  }

  /** Every file below the run artifact directory `dir`, keyed by its path relative to `dir`. */
  async download(runId: string, dir: string): Promise<Map<string, Uint8Array>> {
    const files = new Map<string, Uint8Array>();
    const walk = async (path: string): Promise<void> => {
      const listing = await this.ok('GET', `/api/v1/runs/${runId}/artifacts?path=${encodeURIComponent(path)}`);
      for (const file of listing.files as Wire[]) {
        if (file.is_dir) {
          await walk(file.path);
          continue;
        }
        const res = await this.t.app.inject({ method: 'GET', url: `/api/v1/runs/${runId}/artifacts/${file.path}` });
        assert.equal(res.statusCode, 200, `download ${file.path}: ${res.body}`);
        files.set((file.path as string).slice(dir.length + 1), new Uint8Array(res.rawPayload));
      }
    };
    await walk(dir);
    return files;
  }

  /** Registers a version of `name` (creating the model when new) from `source`; answers its number. */
  async registerVersion(name: string, source: string, runId?: string): Promise<number> {
    const created = await this.call('POST', '/api/v1/models', { name });
    assert.ok(created.status === 201 || created.body.error_code === 'RESOURCE_ALREADY_EXISTS', created.text);
    const body = await this.ok(
      'POST',
      `/api/v1/models/${name}/versions`,
      { source, ...(runId === undefined ? {} : { run_id: runId }) },
      201,
    );
    return Number(body.model_version.version);
  }

  /** Points `name@alias` at `version` through the registry API. */
  async setAlias(name: string, alias: string, version: number): Promise<void> {
    await this.ok('PUT', `/api/v1/models/${name}/aliases/${alias}`, { version }, 204);
  }

  /** POST /api/v1/deployments, then waits until it serves; answers the deployment. */
  async deploy(body: Wire): Promise<Wire> {
    const created = await this.ok('POST', '/api/v1/deployments', body, 201);
    await this.waitReady(body.name as string);
    return created.deployment;
  }

  /** Waits until the deployment's status and its OIP readiness probe both say ready. */
  async waitReady(name: string): Promise<void> {
    await this.until(`deployment ${name} ready`, async () => {
      const status = await this.call('GET', `/api/v1/deployments/${name}/status`);
      if (status.status !== 200 || status.body.status.ready !== true) return undefined;
      const probe = await this.call('GET', `/serve/${name}/v2/health/ready`);
      return probe.status === 200 ? true : undefined;
    });
  }

  /** POST /serve/<deployment>/predict, failing the test on anything but 200. */
  async predict(deployment: string, body: Wire, headers: Record<string, string> = {}): Promise<Wire> {
    const res = await this.call('POST', `/serve/${deployment}/predict`, body, headers);
    assert.equal(res.status, 200, `predict on ${deployment}: ${res.text}`);
    return res.body;
  }

  /** Polls `check` until it answers something other than undefined; fails the test after a generous limit. */
  async until<T>(what: string, check: () => Promise<T | undefined>): Promise<T> {
    const limit = Date.now() + WAIT_LIMIT_MS;
    for (;;) {
      const value = await check();
      if (value !== undefined) return value;
      if (Date.now() > limit) assert.fail(`gave up waiting for ${what}`);
      await sleep(50);
    }
  }
}
