import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createTestApp, type TestApp } from './testing/app.js';

describe('workspaces API', () => {
  let t: TestApp;
  before(async () => {
    t = await createTestApp();
  });
  after(() => t.close());

  it('should list the seeded default workspace', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/api/v1/workspaces' });
    assert.equal(res.statusCode, 200);
    const names = res.json().workspaces.map((w: { name: string }) => w.name);
    assert.deepEqual(names, ['default']);
  });

  it('should create, get, update and delete a workspace', async () => {
    const created = await t.app.inject({
      method: 'POST',
      url: '/api/v1/workspaces',
      payload: { name: 'fraud', description: 'Card fraud models' },
    });
    assert.equal(created.statusCode, 201);
    const workspace = created.json().workspace;
    assert.equal(workspace.name, 'fraud');
    assert.equal(workspace.description, 'Card fraud models');
    assert.match(workspace.created_at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    assert.equal(workspace.updated_at, workspace.created_at);

    const got = await t.app.inject({ method: 'GET', url: '/api/v1/workspaces/fraud' });
    assert.deepEqual(got.json(), { workspace });

    const patched = await t.app.inject({
      method: 'PATCH',
      url: '/api/v1/workspaces/fraud',
      payload: { description: 'Card and wire fraud' },
    });
    assert.equal(patched.statusCode, 200);
    assert.equal(patched.json().workspace.description, 'Card and wire fraud');
    assert.equal(patched.json().workspace.created_at, workspace.created_at);

    const deleted = await t.app.inject({ method: 'DELETE', url: '/api/v1/workspaces/fraud' });
    assert.equal(deleted.statusCode, 204);
    assert.equal(deleted.body, '');
    const gone = await t.app.inject({ method: 'GET', url: '/api/v1/workspaces/fraud' });
    assert.equal(gone.statusCode, 404);
    assert.equal(gone.json().code, 'RESOURCE_DOES_NOT_EXIST');
    assert.equal(gone.json().message, "Workspace 'fraud' does not exist");
  });

  it('should refuse a duplicate with RESOURCE_ALREADY_EXISTS', async () => {
    const first = await t.app.inject({ method: 'POST', url: '/api/v1/workspaces', payload: { name: 'twice' } });
    assert.equal(first.statusCode, 201);
    assert.equal(first.json().workspace.description, '');
    const second = await t.app.inject({ method: 'POST', url: '/api/v1/workspaces', payload: { name: 'twice' } });
    assert.equal(second.statusCode, 400);
    assert.equal(second.json().code, 'RESOURCE_ALREADY_EXISTS');
  });

  it('should refuse to delete the default workspace with INVALID_STATE', async () => {
    const res = await t.app.inject({ method: 'DELETE', url: '/api/v1/workspaces/default' });
    assert.equal(res.statusCode, 409);
    assert.equal(res.json().code, 'INVALID_STATE');
  });

  it('should refuse a malformed name, naming the field', async () => {
    const res = await t.app.inject({ method: 'POST', url: '/api/v1/workspaces', payload: { name: '-bad' } });
    assert.equal(res.statusCode, 400);
    assert.match(res.json().message, /^body\.name: /);
    const get = await t.app.inject({ method: 'GET', url: '/api/v1/workspaces/Not_Valid' });
    assert.equal(get.statusCode, 400);
    assert.match(get.json().message, /^name: must be 1 to 63/);
  });

  it('should answer 404 when updating or deleting an unknown workspace', async () => {
    const patch = await t.app.inject({
      method: 'PATCH',
      url: '/api/v1/workspaces/ghost',
      payload: { description: 'x' },
    });
    assert.equal(patch.statusCode, 404);
    const del = await t.app.inject({ method: 'DELETE', url: '/api/v1/workspaces/ghost' });
    assert.equal(del.statusCode, 404);
  });

  it('should page through workspaces with max_results and page_token', async () => {
    for (const name of ['page-a', 'page-b', 'page-c', 'page-d', 'page-e']) {
      const res = await t.app.inject({ method: 'POST', url: '/api/v1/workspaces', payload: { name } });
      assert.equal(res.statusCode, 201);
    }
    const seen: string[] = [];
    let token: string | undefined;
    let pages = 0;
    do {
      const query = token === undefined ? 'max_results=2' : `max_results=2&page_token=${encodeURIComponent(token)}`;
      const res = await t.app.inject({ method: 'GET', url: `/api/v1/workspaces?${query}` });
      assert.equal(res.statusCode, 200);
      const body = res.json();
      assert.ok(body.workspaces.length <= 2);
      seen.push(...body.workspaces.map((w: { name: string }) => w.name));
      token = body.next_page_token;
      pages += 1;
    } while (token !== undefined);
    assert.deepEqual(seen, [...seen].sort());
    assert.deepEqual(
      seen.filter((n) => n.startsWith('page-')),
      ['page-a', 'page-b', 'page-c', 'page-d', 'page-e'],
    );
    assert.equal(pages, Math.ceil(seen.length / 2));
  });

  it('should refuse a forged page token', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/api/v1/workspaces?page_token=!!!' });
    assert.equal(res.statusCode, 400);
    assert.match(res.json().message, /^page_token: /);
  });

  it('should refuse max_results outside 1 to 1000', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/api/v1/workspaces?max_results=0' });
    assert.equal(res.statusCode, 400);
    assert.match(res.json().message, /^query\.max_results: /);
  });
});
