import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { readdir } from 'node:fs/promises';
import { request } from 'node:http';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileUrlPath } from '../src/core/index.js';
import { type ArtifactServer, SMALL_LIMIT, startArtifactServer } from './support/artifacts-server.js';

const MiB = 1024 * 1024;
const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

/** A deterministic pseudo-random body of `size` bytes, produced in 64 KiB chunks. */
function bigBody(size: number, seed: number): { stream: () => Readable; hash: string } {
  const block = createHash('sha512');
  const chunk = Buffer.alloc(64 * 1024);
  for (let i = 0; i < chunk.length; i += 64) block.copy().update(`${seed}:${i}`).digest().copy(chunk, i);
  const hash = createHash('sha256');
  for (let sent = 0; sent < size; sent += chunk.length)
    hash.update(chunk.subarray(0, Math.min(chunk.length, size - sent)));
  function* chunks() {
    for (let sent = 0; sent < size; sent += chunk.length) yield chunk.subarray(0, Math.min(chunk.length, size - sent));
  }
  return { stream: () => Readable.from(chunks()), hash: hash.digest('hex') };
}

describe('artifact routes over HTTP', () => {
  let s: ArtifactServer;
  let runId: string;
  let kiln: string;
  let proxy: string;

  before(async () => {
    s = await startArtifactServer();
    runId = await s.startRun();
    kiln = `/api/v1/runs/${runId}/artifacts`;
    proxy = `/api/2.0/mlflow-artifacts/artifacts/0/${runId}/artifacts`;
  });
  after(() => s.close());

  describe('Kiln REST', () => {
    it('should upload the raw body of any content type and download it as an attachment', async () => {
      const put = await s.send('PUT', `${kiln}/notes/hello.txt`, {
        headers: { 'content-type': 'application/json' },
        body: 'not json at all',
      });
      assert.equal(put.status, 200, put.body.toString());
      assert.deepEqual(put.json, {
        path: 'notes/hello.txt',
        file_size: 15,
        sha256: sha256(Buffer.from('not json at all')),
      });
      const get = await s.send('GET', `${kiln}/notes/hello.txt`);
      assert.equal(get.status, 200);
      assert.equal(get.body.toString(), 'not json at all');
      assert.equal(get.headers['content-type'], 'text/plain; charset=utf-8');
      assert.equal(get.headers['content-length'], '15');
      assert.equal(get.headers['x-content-type-options'], 'nosniff');
      assert.equal(get.headers['content-disposition'], `attachment; filename="hello.txt"; filename*=UTF-8''hello.txt`);
      assert.equal(get.headers['accept-ranges'], 'bytes');
    });

    it('should serve unknown and active-content types as octet-stream with a safe file name', async () => {
      await s.send('PUT', `${kiln}/page%20%22x%22.html`, { body: '<script>alert(1)</script>' });
      const get = await s.send('GET', `${kiln}/page%20%22x%22.html`);
      assert.equal(get.status, 200);
      assert.equal(get.headers['content-type'], 'application/octet-stream');
      assert.equal(
        get.headers['content-disposition'],
        `attachment; filename="page__x_.html"; filename*=UTF-8''page%20%22x%22.html`,
      );
      assert.match(String(get.headers['content-security-policy']), /sandbox/);
    });

    it('should list one level with paging, and bound max_results and page tokens', async () => {
      for (const name of ['l/a', 'l/b', 'l/sub/c', 'l/sub/d', 'l/z'])
        await s.send('PUT', `${kiln}/${name}`, { body: 'x' });
      const all = await s.send('GET', `${kiln}?path=l`);
      assert.equal(all.status, 200);
      assert.deepEqual(all.json?.files, [
        { path: 'l/a', is_dir: false, file_size: 1 },
        { path: 'l/b', is_dir: false, file_size: 1 },
        { path: 'l/sub', is_dir: true },
        { path: 'l/z', is_dir: false, file_size: 1 },
      ]);
      assert.equal(all.json?.root_uri, `${s.config.artifactsUrl}/0/${runId}/artifacts`);
      const paths: unknown[] = [];
      let token: unknown;
      do {
        const query = `?path=l&max_results=3${typeof token === 'string' ? `&page_token=${token}` : ''}`;
        const page = await s.send('GET', `${kiln}${query}`);
        assert.equal(page.status, 200);
        paths.push(...((page.json?.files ?? []) as { path: string }[]).map((f) => f.path));
        token = page.json?.next_page_token;
      } while (token !== undefined);
      assert.deepEqual(paths, ['l/a', 'l/b', 'l/sub', 'l/z']);
      for (const query of ['max_results=1001', 'max_results=0', 'page_token=nonsense', 'path=l&path=m']) {
        const bad = await s.send('GET', `${kiln}?${query}`);
        assert.equal(bad.status, 400, query);
        assert.equal(bad.json?.error_code, 'INVALID_PARAMETER_VALUE', query);
      }
    });

    it('should honour single byte ranges with 206 and refuse unsatisfiable ones naming range', async () => {
      await s.send('PUT', `${kiln}/digits.bin`, { body: '0123456789' });
      const cases = [
        ['bytes=2-4', 206, '234', 'bytes 2-4/10'],
        ['bytes=7-', 206, '789', 'bytes 7-9/10'],
        ['bytes=-3', 206, '789', 'bytes 7-9/10'],
        ['bytes=8-999', 206, '89', 'bytes 8-9/10'],
        ['bytes=0-1,4-5', 200, '0123456789', undefined],
        ['items=0-1', 200, '0123456789', undefined],
        ['bytes=5-2', 200, '0123456789', undefined],
      ] as const;
      for (const [range, status, body, contentRange] of cases) {
        const res = await s.send('GET', `${kiln}/digits.bin`, { headers: { range } });
        assert.equal(res.status, status, range);
        assert.equal(res.body.toString(), body, range);
        assert.equal(res.headers['content-range'], contentRange, range);
        assert.equal(res.headers['content-length'], String(body.length), range);
      }
      const ignored = await s.send('GET', `${kiln}/digits.bin`, { headers: { range: 'bytes=0-0', 'if-range': '"x"' } });
      assert.equal(ignored.status, 200);
      const bad = await s.send('GET', `${kiln}/digits.bin`, { headers: { range: 'bytes=10-' } });
      assert.equal(bad.status, 400);
      assert.equal(bad.json?.error_code, 'INVALID_PARAMETER_VALUE');
      assert.match(String(bad.json?.message), /^range: /);
      assert.equal(bad.headers['content-range'], 'bytes */10');
    });

    it('should stream a 20 MiB chunked upload past the JSON body limit and return it intact', async () => {
      const big = bigBody(20 * MiB + 123, 1);
      const put = await s.send('PUT', `${kiln}/big/blob.bin`, { body: big.stream() });
      assert.equal(put.status, 200, put.body.toString().slice(0, 300));
      assert.deepEqual(put.json, { path: 'big/blob.bin', file_size: 20 * MiB + 123, sha256: big.hash });
      const get = await s.send('GET', `${kiln}/big/blob.bin`);
      assert.equal(get.status, 200);
      assert.equal(get.body.length, 20 * MiB + 123);
      assert.equal(sha256(get.body), big.hash);
      const part = await s.send('GET', `${kiln}/big/blob.bin`, {
        headers: { range: `bytes=${10 * MiB}-${10 * MiB + 99}` },
      });
      assert.equal(part.status, 206);
      assert.deepEqual(part.body, get.body.subarray(10 * MiB, 10 * MiB + 100));
    });

    it('should refuse uploads over the artifact limit, declared or chunked, and keep nothing', async () => {
      const path = `/limited/runs/${runId}/artifacts/too-big.bin`;
      const body = randomBytes(SMALL_LIMIT + 1);
      const declared = await s.send('PUT', path, { body, headers: { 'content-length': body.length } });
      assert.equal(declared.status, 413);
      assert.equal(declared.json?.code, 'PAYLOAD_TOO_LARGE');
      const chunked = await s.send('PUT', path, { body: Readable.from([body.subarray(0, 600), body.subarray(600)]) });
      assert.equal(chunked.status, 413);
      assert.equal((await s.send('GET', `${kiln}/too-big.bin`)).status, 404);
      const fits = await s.send('PUT', path, { body: body.subarray(0, SMALL_LIMIT) });
      assert.equal(fits.status, 200);
    });

    it('should store an empty body as an empty file', async () => {
      const put = await s.send('PUT', `${kiln}/empty.txt`);
      assert.equal(put.status, 200);
      assert.equal(put.json?.file_size, 0);
      const get = await s.send('GET', `${kiln}/empty.txt`);
      assert.equal(get.status, 200);
      assert.equal(get.body.length, 0);
      assert.equal((await s.send('GET', `${kiln}/empty.txt`, { headers: { range: 'bytes=0-' } })).status, 400);
    });

    it('should keep nothing of an upload whose client goes away mid-body', async () => {
      const req = request({
        host: '127.0.0.1',
        port: s.port,
        method: 'PUT',
        path: `${kiln}/aborted.bin`,
        headers: { 'content-length': 4 * MiB },
      });
      req.on('error', () => undefined);
      req.write(randomBytes(MiB));
      await sleep(100);
      req.destroy();
      const temp = join(fileUrlPath(s.config.artifactsUrl), '.tmp');
      for (let i = 0; i < 50 && (await readdir(temp)).length > 0; i++) await sleep(20);
      assert.deepEqual(await readdir(temp), []);
      assert.equal((await s.send('GET', `${kiln}/aborted.bin`)).status, 404);
    });

    it('should answer 400 for a directory download, 404 for missing files and runs, 400 for bad run ids', async () => {
      const dir = await s.send('GET', `${kiln}/l`);
      assert.equal(dir.status, 400);
      assert.match(String(dir.json?.message), /^path: 'l' is a directory/);
      assert.equal((await s.send('GET', `${kiln}/missing.txt`)).json?.error_code, 'RESOURCE_DOES_NOT_EXIST');
      const unknown = await s.send('GET', `/api/v1/runs/${'0'.repeat(32)}/artifacts`);
      assert.equal(unknown.status, 404);
      const malformed = await s.send('GET', '/api/v1/runs/%2e%2e/artifacts');
      assert.equal(malformed.status, 400);
      assert.match(String(malformed.json?.message), /^run_id/);
      const empty = await s.send('PUT', `${kiln}/`, { body: 'x' });
      assert.equal(empty.status, 400);
      assert.match(String(empty.json?.message), /^path: must not be empty/);
    });

    it('should delete files and directories, and refuse writes to a deleted run', async () => {
      const file = await s.send('DELETE', `${kiln}/l/a`);
      assert.deepEqual(file.json, { deleted: 1 });
      const dir = await s.send('DELETE', `${kiln}/l/sub`);
      assert.deepEqual(dir.json, { deleted: 2 });
      assert.equal((await s.send('DELETE', `${kiln}/l/sub`)).status, 404);
      const other = await s.startRun();
      assert.equal((await s.send('DELETE', `/api/v1/runs/${other}`)).status, 204);
      const refused = await s.send('PUT', `/api/v1/runs/${other}/artifacts/x.txt`, { body: 'x' });
      assert.equal(refused.status, 400);
      assert.match(String(refused.json?.message), /'active' state/);
    });
  });

  describe('MLflow artifact proxy', () => {
    it('should take the stock client’s uploads, listings and downloads', async () => {
      const notes = 'x'.repeat(230);
      for (const path of ['notes.txt', 'extra/dir/notes.txt', 'model/MLmodel', 'model/conda.yaml']) {
        const put = await s.send('PUT', `${proxy}/${path}`, { headers: { 'content-type': 'text/plain' }, body: notes });
        assert.equal(put.status, 200);
        assert.deepEqual(put.json, {});
      }
      const root = await s.send('GET', `/api/2.0/mlflow-artifacts/artifacts?path=0%2F${runId}%2Fartifacts`);
      const files = root.json?.files as { path: string }[];
      assert.ok(files.some((f) => f.path === 'notes.txt'));
      assert.deepEqual(
        (await s.send('GET', `/api/2.0/mlflow-artifacts/artifacts?path=0/${runId}/artifacts/model`)).json,
        {
          files: [
            { path: 'MLmodel', is_dir: false, file_size: 230 },
            { path: 'conda.yaml', is_dir: false, file_size: 230 },
          ],
        },
      );
      const probe = await s.send('GET', `/api/2.0/mlflow-artifacts/artifacts?path=0/${runId}/artifacts/notes.txt`);
      assert.equal(probe.status, 200);
      assert.deepEqual(probe.json, {});
      const get = await s.send('GET', `${proxy}/model/MLmodel`);
      assert.equal(get.status, 200);
      assert.equal(get.body.toString(), notes);
      assert.equal(get.headers['content-type'], 'text/plain; charset=utf-8');
      const ajax = await s.send('GET', `/ajax-api/2.0/mlflow-artifacts/artifacts/0/${runId}/artifacts/notes.txt`);
      assert.equal(ajax.status, 200);
    });

    it('should stream a 20 MiB upload and download through the proxy with equal SHA-256', async () => {
      const big = bigBody(20 * MiB, 2);
      const put = await s.send('PUT', `${proxy}/model/model.pkl`, {
        headers: { 'content-type': 'application/octet-stream', 'content-length': 20 * MiB },
        body: big.stream(),
      });
      assert.equal(put.status, 200);
      const get = await s.send('GET', `${proxy}/model/model.pkl`);
      assert.equal(get.headers['content-type'], 'application/octet-stream');
      assert.equal(sha256(get.body), big.hash);
      const tail = await s.send('GET', `${proxy}/model/model.pkl`, { headers: { range: 'bytes=-16' } });
      assert.equal(tail.status, 206);
      assert.deepEqual(tail.body, get.body.subarray(20 * MiB - 16));
    });

    it('should list a directory of any size in full, streaming past the scan budget', async () => {
      const names = Array.from({ length: 23 }, (_, i) => `wide/f${String(i).padStart(2, '0')}.txt`);
      for (const name of names)
        await s.artifacts.put({ actor: 't', workspace: 'default', requestId: 't' }, runId, name, 'w');
      await s.artifacts.put({ actor: 't', workspace: 'default', requestId: 't' }, runId, 'wide/sub/x', 'w');
      const res = await s.send('GET', `/budget/api/2.0/mlflow-artifacts/artifacts?path=0/${runId}/artifacts/wide`);
      assert.equal(res.status, 200);
      assert.match(String(res.headers['content-type']), /^application\/json/);
      const files = res.json?.files as { path: string; is_dir: boolean }[];
      assert.deepEqual(
        files.map((f) => f.path),
        [...names.map((n) => n.slice('wide/'.length)), 'sub'],
      );
      assert.equal(files.at(-1)?.is_dir, true);
      const empty = await s.send('GET', `/budget/api/2.0/mlflow-artifacts/artifacts?path=0/${runId}/artifacts/none`);
      assert.deepEqual(empty.json, {});
    });

    it('should answer artifacts/list with root_uri in mlflow-artifacts: form, on both prefixes', async () => {
      for (const base of ['/api/2.0', '/ajax-api/2.0']) {
        const res = await s.send('GET', `${base}/mlflow/artifacts/list?run_uuid=${runId}&run_id=${runId}&path=model`);
        assert.equal(res.status, 200);
        assert.equal(res.json?.root_uri, `mlflow-artifacts:/0/${runId}/artifacts`);
        const files = res.json?.files as { path: string }[];
        assert.deepEqual(
          files.map((f) => f.path),
          ['model/MLmodel', 'model/conda.yaml', 'model/model.pkl'],
        );
      }
      const empty = await s.send('GET', `/api/2.0/mlflow/artifacts/list?run_id=${runId}&path=nothing`);
      assert.deepEqual(empty.json, { root_uri: `mlflow-artifacts:/0/${runId}/artifacts` });
      const missing = await s.send('GET', '/api/2.0/mlflow/artifacts/list');
      assert.equal(missing.status, 400);
      assert.match(String(missing.json?.message), /^run_id: is required/);
      const unknown = await s.send('GET', `/api/2.0/mlflow/artifacts/list?run_id=${'a'.repeat(32)}`);
      assert.equal(unknown.status, 404);
      assert.equal(unknown.json?.error_code, 'RESOURCE_DOES_NOT_EXIST');
    });

    it('should delete idempotently, and reach only existing runs at their own prefix', async () => {
      assert.deepEqual((await s.send('DELETE', `${proxy}/extra`)).json, {});
      assert.deepEqual((await s.send('DELETE', `${proxy}/extra`)).json, {});
      assert.equal((await s.send('GET', `${proxy}/extra/dir/notes.txt`)).status, 404);
      for (const path of [`7/${runId}/artifacts/notes.txt`, 'etc/passwd', `0/${'b'.repeat(32)}/artifacts/x`]) {
        const res = await s.send('PUT', `/api/2.0/mlflow-artifacts/artifacts/${path}`, { body: 'x' });
        assert.equal(res.status, 404, path);
        assert.equal(res.json?.error_code, 'RESOURCE_DOES_NOT_EXIST', path);
      }
      const noPath = await s.send('GET', '/api/2.0/mlflow-artifacts/artifacts');
      assert.equal(noPath.status, 400);
      assert.match(String(noPath.json?.message), /^path: is required/);
    });
  });
});
