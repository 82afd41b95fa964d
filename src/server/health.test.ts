import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { KILN_VERSION } from '../core/index.js';
import { createTestApp, type TestApp } from './testing/app.js';

describe('health and version', () => {
  let t: TestApp;
  before(async () => {
    t = await createTestApp();
  });
  after(() => t.close());

  it('should answer live with 200 ok', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/health/live' });
    assert.equal(res.statusCode, 200);
    assert.deepEqual(res.json(), { status: 'ok' });
  });

  it('should answer version with the package version', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/api/v1/version' });
    assert.deepEqual(res.json(), { version: KILN_VERSION });
  });

  it('should answer ready with 200 when every store answers', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/health/ready' });
    assert.equal(res.statusCode, 200);
    assert.deepEqual(res.json(), { status: 'ready', checks: { database: 'ok', blobs: 'ok', queue: 'ok' } });
  });

  it('should answer ready with 503 naming the database once it is closed', async () => {
    await t.stores.database.close();
    const res = await t.app.inject({ method: 'GET', url: '/health/ready' });
    assert.equal(res.statusCode, 503);
    const body = res.json();
    assert.equal(body.code, 'TEMPORARILY_UNAVAILABLE');
    assert.match(body.message, /^Not ready: database \(/);
    assert.notEqual(body.details.checks.database, 'ok');
    assert.equal(body.details.checks.blobs, 'ok');
  });

  it('should stay live while not ready', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/health/live' });
    assert.equal(res.statusCode, 200);
  });
});
