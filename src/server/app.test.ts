import assert from 'node:assert/strict';
import { rm } from 'node:fs/promises';
import { after, before, describe, it } from 'node:test';
import { silentLogger } from '../core/index.js';
import { buildApp } from './app.js';
import type { KilnApp } from './kiln-app.js';
import { openStores } from './stores.js';
import { createTestApp, type TestApp, testConfig } from './testing/app.js';

/** Builds a bare app (not ready) on a temp home, runs `fn`, and cleans everything up. */
async function withBuiltApp(fn: (app: KilnApp) => Promise<void>): Promise<void> {
  const config = await testConfig();
  const stores = await openStores(config, silentLogger(), { migrate: true });
  try {
    const app = await buildApp({ config, logger: silentLogger(), stores });
    try {
      await fn(app);
    } finally {
      await app.close();
    }
  } finally {
    await stores.close();
    await rm(config.home, { recursive: true, force: true });
  }
}

describe('server app', () => {
  let t: TestApp;
  before(async () => {
    t = await createTestApp({ KILN_BODY_LIMIT: '1kb' }, (app) => {
      app.get('/test/boom', { config: { permission: 'read' } }, () => {
        throw new Error('secret connection string postgres://admin:hunter2@db');
      });
      app.get('/test/context', { config: { permission: 'read' } }, (request) => request.ctx);
    });
  });
  after(() => t.close());

  describe('request ids', () => {
    it('should echo a safe incoming x-request-id', async () => {
      const res = await t.app.inject({ method: 'GET', url: '/health/live', headers: { 'x-request-id': 'trace-42.a' } });
      assert.equal(res.headers['x-request-id'], 'trace-42.a');
    });

    it('should replace an unsafe x-request-id with a fresh UUID', async () => {
      const res = await t.app.inject({
        method: 'GET',
        url: '/health/live',
        headers: { 'x-request-id': 'a b<script>' },
      });
      assert.match(String(res.headers['x-request-id']), /^[0-9a-f-]{36}$/);
    });

    it('should put the request id into error bodies', async () => {
      const res = await t.app.inject({ method: 'GET', url: '/nope', headers: { 'x-request-id': 'req-7' } });
      assert.equal(res.json().request_id, 'req-7');
    });
  });

  describe('request context', () => {
    it('should default to the default workspace and the anonymous actor', async () => {
      const res = await t.app.inject({ method: 'GET', url: '/test/context', headers: { 'x-request-id': 'ctx-1' } });
      assert.deepEqual(res.json(), { actor: 'anonymous', workspace: 'default', requestId: 'ctx-1' });
    });

    it('should take the workspace from x-kiln-workspace', async () => {
      const res = await t.app.inject({
        method: 'GET',
        url: '/test/context',
        headers: { 'x-kiln-workspace': 'team-a' },
      });
      assert.equal(res.json().workspace, 'team-a');
    });

    it('should answer 400 naming the header when the workspace name is malformed', async () => {
      const res = await t.app.inject({
        method: 'GET',
        url: '/api/v1/workspaces',
        headers: { 'x-kiln-workspace': 'Team A' },
      });
      assert.equal(res.statusCode, 400);
      const body = res.json();
      assert.equal(body.code, 'INVALID_PARAMETER_VALUE');
      assert.match(body.message, /^x-kiln-workspace: /);
      assert.equal(body.details.field, 'x-kiln-workspace');
      assert.ok(res.headers['x-request-id']);
    });
  });

  describe('error handler', () => {
    it('should answer malformed JSON with 400 MALFORMED_REQUEST', async () => {
      const res = await t.app.inject({
        method: 'POST',
        url: '/api/v1/workspaces',
        headers: { 'content-type': 'application/json' },
        payload: '{"name": "x",',
      });
      assert.equal(res.statusCode, 400);
      assert.equal(res.json().code, 'MALFORMED_REQUEST');
      assert.equal(res.json().error_code, 'MALFORMED_REQUEST');
    });

    it('should answer a body over the limit with 413 PAYLOAD_TOO_LARGE', async () => {
      const res = await t.app.inject({
        method: 'POST',
        url: '/api/v1/workspaces',
        headers: { 'content-type': 'application/json' },
        payload: JSON.stringify({ name: 'big', description: 'x'.repeat(2000) }),
      });
      assert.equal(res.statusCode, 413);
      assert.equal(res.json().code, 'PAYLOAD_TOO_LARGE');
      assert.equal(res.json().details.limit, 1024);
    });

    it('should answer an unsupported content type with 415', async () => {
      const res = await t.app.inject({
        method: 'POST',
        url: '/api/v1/workspaces',
        headers: { 'content-type': 'application/xml' },
        payload: '<name>x</name>',
      });
      assert.equal(res.statusCode, 415);
      assert.equal(res.json().code, 'UNSUPPORTED_MEDIA_TYPE');
      assert.match(res.json().message, /application\/xml/);
    });

    it('should answer an unknown route with 404 ENDPOINT_NOT_FOUND naming method and path', async () => {
      const res = await t.app.inject({ method: 'DELETE', url: '/api/v1/nothing-here?x=1' });
      assert.equal(res.statusCode, 404);
      const body = res.json();
      assert.equal(body.code, 'ENDPOINT_NOT_FOUND');
      assert.equal(body.message, 'No endpoint DELETE /api/v1/nothing-here');
    });

    it('should name the body field that fails validation', async () => {
      const res = await t.app.inject({ method: 'POST', url: '/api/v1/workspaces', payload: { name: 5 } });
      assert.equal(res.statusCode, 400);
      assert.equal(res.json().code, 'INVALID_PARAMETER_VALUE');
      assert.equal(res.json().message, 'body.name: must be string');
      assert.equal(res.json().details.field, 'body.name');
    });

    it('should name a missing required field', async () => {
      const res = await t.app.inject({ method: 'POST', url: '/api/v1/workspaces', payload: { description: 'd' } });
      assert.equal(res.statusCode, 400);
      assert.equal(res.json().message, 'body.name: is required');
    });

    it('should name an unknown field', async () => {
      const res = await t.app.inject({ method: 'POST', url: '/api/v1/workspaces', payload: { name: 'ok', colour: 1 } });
      assert.equal(res.statusCode, 400);
      assert.equal(res.json().message, 'body.colour: is not a known field');
    });

    it('should name a bad query parameter', async () => {
      const res = await t.app.inject({ method: 'GET', url: '/api/v1/workspaces?max_results=lots' });
      assert.equal(res.statusCode, 400);
      assert.equal(res.json().message, 'query.max_results: must be integer');
    });

    it('should answer an unexpected throw with a generic 500 that leaks nothing', async () => {
      const res = await t.app.inject({ method: 'GET', url: '/test/boom', headers: { 'x-request-id': 'boom-1' } });
      assert.equal(res.statusCode, 500);
      const body = res.json();
      assert.equal(body.code, 'INTERNAL_ERROR');
      assert.equal(body.request_id, 'boom-1');
      assert.doesNotMatch(res.body, /hunter2|secret|postgres/);
      assert.match(body.message, /boom-1/);
    });
  });

  describe('permissions', () => {
    it('should refuse to start when a plugin route declares no permission', async () => {
      await withBuiltApp(async (app) => {
        await assert.rejects(
          async () => {
            await app.register(async (scope) => {
              scope.get('/unguarded', async () => 'open');
            });
            await app.ready();
          },
          (err: Error) => /GET \/unguarded declares no permission/.test(err.message),
        );
      });
    });

    it('should refuse an unknown permission name', async () => {
      await withBuiltApp(async (app) => {
        assert.throws(
          () => app.get('/x', { config: { permission: 'everyone' as 'read' } }, async () => 'x'),
          /declares no permission/,
        );
      });
    });
  });
});
