import assert from 'node:assert/strict';
import { rm } from 'node:fs/promises';
import { after, before, describe, it } from 'node:test';
import { KILN_VERSION, KilnError, silentLogger } from '../core/index.js';
import { KilnClient } from '../sdk/index.js';
import { type RunningServer, startServer } from './start.js';
import { testConfig } from './testing/app.js';

describe('SDK against a running server', () => {
  let server: RunningServer;
  let home: string;
  let kiln: KilnClient;
  before(async () => {
    const config = await testConfig();
    home = config.home;
    server = await startServer(config, silentLogger());
    kiln = new KilnClient({ baseUrl: server.url, retryDelayMs: 1 });
  });
  after(async () => {
    await server.close();
    await rm(home, { recursive: true, force: true });
  });

  it('should listen on a real port and report its URL', () => {
    assert.match(server.url, /^http:\/\/127\.0\.0\.1:\d+$/);
    assert.notEqual(new URL(server.url).port, '0');
  });

  it('should report live, ready and version', async () => {
    assert.deepEqual(await kiln.live(), { status: 'ok' });
    assert.deepEqual(await kiln.ready(), { status: 'ready', checks: { database: 'ok', blobs: 'ok', queue: 'ok' } });
    assert.deepEqual(await kiln.version(), { version: KILN_VERSION });
  });

  it('should create, list, get, update and delete workspaces', async () => {
    const created = await kiln.workspaces.create({ name: 'sdk-one', description: 'first' });
    assert.equal(created.name, 'sdk-one');
    await kiln.workspaces.create({ name: 'sdk-two' });

    const firstPage = await kiln.workspaces.list({ maxResults: 2 });
    assert.deepEqual(
      firstPage.workspaces.map((w) => w.name),
      ['default', 'sdk-one'],
    );
    assert.ok(firstPage.next_page_token);
    const secondPage = await kiln.workspaces.list({ maxResults: 2, pageToken: firstPage.next_page_token });
    assert.deepEqual(
      secondPage.workspaces.map((w) => w.name),
      ['sdk-two'],
    );
    assert.equal(secondPage.next_page_token, undefined);

    assert.deepEqual(await kiln.workspaces.get('sdk-one'), created);
    const updated = await kiln.workspaces.update('sdk-one', { description: 'changed' });
    assert.equal(updated.description, 'changed');
    await kiln.workspaces.delete('sdk-one');
    await kiln.workspaces.delete('sdk-two');
    await assert.rejects(kiln.workspaces.get('sdk-one'), (err: KilnError) => {
      assert.ok(err instanceof KilnError);
      assert.equal(err.code, 'RESOURCE_DOES_NOT_EXIST');
      assert.equal(err.message, "Workspace 'sdk-one' does not exist");
      assert.equal(typeof err.details?.request_id, 'string');
      return true;
    });
  });

  it('should turn server errors back into the same KilnError codes', async () => {
    await kiln.workspaces.create({ name: 'sdk-dup' });
    await assert.rejects(kiln.workspaces.create({ name: 'sdk-dup' }), { code: 'RESOURCE_ALREADY_EXISTS' });
    await assert.rejects(kiln.workspaces.delete('default'), { code: 'INVALID_STATE' });
    await assert.rejects(kiln.workspaces.create({ name: 'Bad Name' }), (err: KilnError) => {
      assert.equal(err.code, 'INVALID_PARAMETER_VALUE');
      assert.equal(err.details?.field, 'body.name');
      return true;
    });
  });

  it('should send its workspace header, and surface a bad one as a 400 naming it', async () => {
    const bad = new KilnClient({ baseUrl: server.url, workspace: 'NOT OK' });
    await assert.rejects(bad.workspaces.list(), (err: KilnError) => {
      assert.equal(err.code, 'INVALID_PARAMETER_VALUE');
      assert.match(err.message, /^x-kiln-workspace: /);
      return true;
    });
  });

  it('should reach any endpoint through request()', async () => {
    const text = await kiln.request<string>('GET', '/metrics');
    assert.match(text, /kiln_http_requests_total/);
    await assert.rejects(kiln.request('GET', '/api/v1/nowhere'), { code: 'ENDPOINT_NOT_FOUND' });
  });
});
