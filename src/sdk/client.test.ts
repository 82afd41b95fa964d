import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, beforeEach, describe, it } from 'node:test';
import { KilnError } from '../core/index.js';
import { KilnClient } from './client.js';

type Handler = (req: IncomingMessage, res: ServerResponse, body: string) => void;

/** A tiny HTTP server whose behaviour each test sets, recording every request it receives. */
interface Peer {
  url: string;
  seen: { method: string; url: string; headers: IncomingMessage['headers']; body: string }[];
  handle: Handler;
  server: Server;
}

async function startPeer(): Promise<Peer> {
  const peer: Peer = {
    url: '',
    seen: [],
    handle: (_req, res) => res.end(),
    server: createServer((req, res) => {
      let body = '';
      req.setEncoding('utf8');
      req.on('data', (chunk: string) => {
        body += chunk;
      });
      req.on('end', () => {
        peer.seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body });
        peer.handle(req, res, body);
      });
    }),
  };
  await new Promise<void>((resolve) => peer.server.listen(0, '127.0.0.1', resolve));
  peer.url = `http://127.0.0.1:${(peer.server.address() as AddressInfo).port}`;
  return peer;
}

function json(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify(body));
}

/** Answers `failures` times with `status`, then 200 `{ ok: true }`. */
function failThenSucceed(failures: number, status: number, headers: Record<string, string> = {}): Handler {
  let remaining = failures;
  return (_req, res) => {
    if (remaining-- > 0) json(res, status, { code: 'TEMPORARILY_UNAVAILABLE', message: 'busy' }, headers);
    else json(res, 200, { ok: true });
  };
}

describe('KilnClient', () => {
  let peer: Peer;
  before(async () => {
    peer = await startPeer();
  });
  beforeEach(() => {
    peer.seen = [];
  });
  after(async () => {
    peer.server.closeAllConnections();
    await new Promise((resolve) => peer.server.close(resolve));
  });

  const client = (options: Partial<ConstructorParameters<typeof KilnClient>[0]> = {}) =>
    new KilnClient({ baseUrl: peer.url, retryDelayMs: 1, ...options });

  it('should retry a GET after 503 honouring Retry-After, then return the body', async () => {
    peer.handle = failThenSucceed(1, 503, { 'retry-after': '0' });
    const body = await client().request<{ ok: boolean }>('GET', '/thing');
    assert.deepEqual(body, { ok: true });
    assert.equal(peer.seen.length, 2);
  });

  it('should retry 429, 502 and 504 too', async () => {
    for (const status of [429, 502, 504]) {
      peer.seen = [];
      peer.handle = failThenSucceed(2, status);
      assert.deepEqual(await client().request('GET', '/thing'), { ok: true });
      assert.equal(peer.seen.length, 3, `status ${status}`);
    }
  });

  it('should give up after the configured retries with the last error', async () => {
    peer.handle = failThenSucceed(10, 503);
    await assert.rejects(client({ retries: 2 }).request('GET', '/thing'), (err: KilnError) => {
      assert.equal(err.code, 'TEMPORARILY_UNAVAILABLE');
      assert.equal(err.message, 'busy');
      return true;
    });
    assert.equal(peer.seen.length, 3);
  });

  it('should not retry a POST unless it is marked idempotent', async () => {
    peer.handle = failThenSucceed(1, 503);
    await assert.rejects(client().request('POST', '/thing', { body: {} }), KilnError);
    assert.equal(peer.seen.length, 1);

    peer.seen = [];
    peer.handle = failThenSucceed(1, 503);
    assert.deepEqual(await client().request('POST', '/thing', { body: {}, idempotent: true }), { ok: true });
    assert.equal(peer.seen.length, 2);
  });

  it('should not retry a client error, and rebuild the KilnError from the body', async () => {
    peer.handle = (_req, res) =>
      json(res, 404, {
        error_code: 'RESOURCE_DOES_NOT_EXIST',
        code: 'RESOURCE_DOES_NOT_EXIST',
        message: "Workspace 'x' does not exist",
        details: { name: 'x' },
        request_id: 'r-1',
      });
    await assert.rejects(client().request('GET', '/thing'), (err: KilnError) => {
      assert.ok(err instanceof KilnError);
      assert.equal(err.code, 'RESOURCE_DOES_NOT_EXIST');
      assert.equal(err.message, "Workspace 'x' does not exist");
      assert.deepEqual(err.details, { name: 'x', request_id: 'r-1', status: 404 });
      return true;
    });
    assert.equal(peer.seen.length, 1);
  });

  it('should fall back to the status when the peer sends no Kiln error body', async () => {
    peer.handle = (_req, res) => {
      res.writeHead(403, { 'content-type': 'text/plain' });
      res.end('go away');
    };
    await assert.rejects(client().request('GET', '/thing'), (err: KilnError) => {
      assert.equal(err.code, 'PERMISSION_DENIED');
      assert.match(err.message, /^GET http:\/\/127\.0\.0\.1:\d+\/thing answered 403: go away$/);
      return true;
    });
  });

  it('should send the token, the workspace, JSON and the query', async () => {
    peer.handle = (_req, res) => json(res, 200, {});
    await client({ token: 's3cret', workspace: 'team-a' }).request('PUT', '/api/v1/x', {
      body: { a: 1 },
      query: { max_results: 5, page_token: 'a b', skip: undefined },
    });
    const [request] = peer.seen;
    assert.equal(request?.method, 'PUT');
    assert.equal(request?.url, '/api/v1/x?max_results=5&page_token=a+b');
    assert.equal(request?.headers.authorization, 'Bearer s3cret');
    assert.equal(request?.headers['x-kiln-workspace'], 'team-a');
    assert.equal(request?.headers['content-type'], 'application/json');
    assert.equal(request?.body, '{"a":1}');
  });

  it('should keep a base URL path prefix', async () => {
    peer.handle = (_req, res) => json(res, 200, {});
    await new KilnClient({ baseUrl: `${peer.url}/kiln/` }).request('GET', '/health/live');
    assert.equal(peer.seen[0]?.url, '/kiln/health/live');
  });

  it('should resolve undefined for an empty body and text for a non-JSON one', async () => {
    peer.handle = (_req, res) => {
      res.writeHead(204);
      res.end();
    };
    assert.equal(await client().request('DELETE', '/thing'), undefined);
    peer.handle = (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end('metric 1');
    };
    assert.equal(await client().request('GET', '/metrics'), 'metric 1');
  });

  it('should fail with DEADLINE_EXCEEDED when the server does not answer in time', async () => {
    peer.handle = () => undefined;
    await assert.rejects(client({ timeoutMs: 50 }).request('GET', '/hang'), (err: KilnError) => {
      assert.equal(err.code, 'DEADLINE_EXCEEDED');
      assert.match(err.message, /\/hang took longer than 50 ms/);
      return true;
    });
    peer.server.closeAllConnections();
  });

  it('should let one request wait past the client timeout, or without one (timeoutMs 0)', async () => {
    peer.handle = (_req, res) => {
      setTimeout(() => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end('{"slow":true}');
      }, 150);
    };
    const impatient = client({ timeoutMs: 50 });
    assert.deepEqual(await impatient.request('GET', '/slow', { timeoutMs: 0 }), { slow: true });
    assert.deepEqual(await impatient.request('GET', '/slow', { timeoutMs: 1000 }), { slow: true });
    await assert.rejects(impatient.request('GET', '/slow'), { code: 'DEADLINE_EXCEEDED' });
    await assert.rejects(impatient.request('GET', '/slow', { timeoutMs: -1 }), { code: 'INVALID_PARAMETER_VALUE' });
  });

  it('should fail with CANCELLED when the caller aborts', async () => {
    peer.handle = () => undefined;
    const controller = new AbortController();
    const pending = client().request('GET', '/hang', { signal: controller.signal });
    controller.abort();
    await assert.rejects(pending, (err: KilnError) => err.code === 'CANCELLED');
    peer.server.closeAllConnections();
  });

  it('should fail with TEMPORARILY_UNAVAILABLE naming the URL when nothing listens', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    const unreachable = new KilnClient({ baseUrl: `http://127.0.0.1:${port}`, retries: 2, retryDelayMs: 1 });
    await assert.rejects(unreachable.live(), (err: KilnError) => {
      assert.equal(err.code, 'TEMPORARILY_UNAVAILABLE');
      assert.match(err.message, new RegExp(`^Cannot reach http://127\\.0\\.0\\.1:${port}/health/live: .*ECONNREFUSED`));
      return true;
    });
  });

  it('should refuse a body on GET and a token that cannot be a header, without sending', async () => {
    await assert.rejects(client().request('GET', '/thing', { body: { a: 1 } }), /^KilnError: body: a GET request/);
    await assert.rejects(client({ token: 'bad\ntoken' }).live(), (err: KilnError) => {
      assert.equal(err.code, 'INVALID_PARAMETER_VALUE');
      assert.match(err.message, /^Cannot send GET /);
      return true;
    });
    assert.equal(peer.seen.length, 0);
  });

  it('should report a success body that claims JSON but is not as INTERNAL_ERROR', async () => {
    peer.handle = (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{"half":');
    };
    await assert.rejects(client().request('GET', '/thing'), { code: 'INTERNAL_ERROR' });
  });

  it('should refuse a base URL that is not http(s)', () => {
    assert.throws(() => new KilnClient({ baseUrl: 'ftp://example.com' }), /baseUrl: must be http/);
    assert.throws(() => new KilnClient({ baseUrl: 'not a url' }), /baseUrl: 'not a url' is not a URL/);
    assert.throws(() => new KilnClient({ baseUrl: peer.url, retries: -1 }), /retries: must be a non-negative/);
  });
});
