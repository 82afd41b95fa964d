import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createTestApp, type TestApp } from './testing/app.js';

describe('OpenAPI and docs', () => {
  let t: TestApp;
  before(async () => {
    t = await createTestApp();
  });
  after(() => t.close());

  it('should describe every API route in /openapi.json', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/openapi.json' });
    assert.equal(res.statusCode, 200);
    const spec = res.json();
    assert.match(spec.openapi, /^3\./);
    assert.equal(spec.info.title, 'Kiln');
    const paths = Object.keys(spec.paths).sort();
    for (const path of ['/health/live', '/health/ready', '/api/v1/version', '/metrics']) {
      assert.ok(paths.includes(path), `${path} missing from ${paths.join(', ')}`);
    }
    assert.ok(paths.includes('/api/v1/workspaces'));
    assert.ok(!paths.includes('/api/v1/workspaces/'));
    assert.ok(paths.includes('/api/v1/workspaces/{name}'));
    assert.ok(!paths.some((p) => p.startsWith('/docs')));
    const one = spec.paths['/api/v1/workspaces/{name}'];
    assert.deepEqual(Object.keys(one).sort(), ['delete', 'get', 'patch']);
    assert.equal(one.get.tags[0], 'workspaces');
    assert.ok(one.get.summary);
    assert.ok(one.get.responses['200']);
    assert.ok(one.get.responses['4XX'], 'error responses are documented');
  });

  it('should serve the Swagger UI as HTML at /docs', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/docs' });
    assert.equal(res.statusCode, 200);
    assert.match(String(res.headers['content-type']), /^text\/html/);
    assert.match(res.body, /swagger-ui/i);
  });

  it('should serve the Swagger UI assets', async () => {
    const css = await t.app.inject({ method: 'GET', url: '/docs/static/swagger-ui.css' });
    assert.equal(css.statusCode, 200);
    assert.match(String(css.headers['content-type']), /text\/css/);
    const js = await t.app.inject({ method: 'GET', url: '/docs/static/swagger-ui-bundle.js' });
    assert.equal(js.statusCode, 200);
    const init = await t.app.inject({ method: 'GET', url: '/docs/static/swagger-initializer.js' });
    assert.equal(init.statusCode, 200);
  });
});
