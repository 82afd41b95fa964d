// Hostile artifact paths against every artifact route (mlflow.md §6.5, class 1: CVE-2023-1177,
// -2780, -3765, -6831, -6909, CVE-2024-1560 …). Each request goes over a real socket with the path
// bytes as written, and must be refused with 400 (404 when the router itself rejects it) while a
// sentinel file next to the artifact root stays unread, unchanged and undeleted.
import assert from 'node:assert/strict';
import { mkdir, readdir, readFile, stat, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileUrlPath } from '../src/core/index.js';
import { type ArtifactServer, type Exchange, startArtifactServer } from './support/artifacts-server.js';

const SECRET = 'sentinel-secret-4f1c9a';

/**
 * Paths as an attacker writes them in a URL, relative to a run's artifact directory, which sits
 * four levels below KILN_HOME (`artifacts/0/<run>/artifacts`), where the sentinel lives.
 */
const HOSTILE: readonly (readonly [string, string])[] = [
  ['plain ../', '../../../../sentinel.txt'],
  ['one ../', '../x.txt'],
  ['bare ..', '..'],
  ['encoded slash', '..%2f..%2f..%2f..%2fsentinel.txt'],
  ['upper-case encoded slash', '..%2F..%2F..%2F..%2Fsentinel.txt'],
  ['encoded dots', '%2e%2e/%2e%2e/%2e%2e/%2e%2e/sentinel.txt'],
  ['encoded dots and slash', '%2e%2e%2f%2e%2e%2f%2e%2e%2f%2e%2e%2fsentinel.txt'],
  ['half-encoded dots', '.%2e/.%2e/.%2e/.%2e/sentinel.txt'],
  ['other half-encoded dots', '%2e./%2e./%2e./%2e./sentinel.txt'],
  ['double-encoded (CVE-2023-6831)', '%252e%252e%252f%252e%252e%252f%252e%252e%252f%252e%252e%252fsentinel.txt'],
  ['double-encoded slash only', '..%252f..%252f..%252f..%252fsentinel.txt'],
  ['triple-encoded', '%25252e%25252e%25252f%25252e%25252e%25252fsentinel.txt'],
  ['backslashes (CVE-2023-2780)', '..\\..\\..\\..\\sentinel.txt'],
  ['encoded backslashes', '..%5c..%5c..%5c..%5csentinel.txt'],
  ['encoded dots and backslash', '%2e%2e%5c%2e%2e%5csentinel.txt'],
  ['absolute (double slash)', '/etc/passwd'],
  ['absolute (encoded)', '%2fetc%2fpasswd'],
  ['drive letter (CVE-2023-3765)', 'C:/Windows/win.ini'],
  ['drive letter with backslash', 'C:%5cWindows%5cwin.ini'],
  ['drive-relative', 'c:sentinel.txt'],
  ['NUL byte', 'a%00b.txt'],
  ['NUL before extension', 'sentinel.txt%00.png'],
  ['newline', 'a%0a..%0ab'],
  ['overlong UTF-8 dots', '%c0%ae%c0%ae/sentinel.txt'],
  ['overlong UTF-8 slash', '..%c0%af..%c0%afsentinel.txt'],
  ['one-dot leaders ․․ (NFKC ..)', '%e2%80%a4%e2%80%a4/%e2%80%a4%e2%80%a4/sentinel.txt'],
  ['two-dot leader ‥', '%e2%80%a5/%e2%80%a5/sentinel.txt'],
  ['fullwidth ．．／', '%ef%bc%8e%ef%bc%8e%ef%bc%8fsentinel.txt'],
  ['fullwidth solidus', '..%ef%bc%8f..%ef%bc%8fsentinel.txt'],
  ['small full stops ﹒﹒', '%ef%b9%92%ef%b9%92/sentinel.txt'],
  ['vertical two-dot leader ︰', '%ef%b8%b0/%ef%b8%b0/sentinel.txt'],
  ['dots only', '.../sentinel.txt'],
  ['dots and a space', '..%20/..%20/sentinel.txt'],
  ['traversal after a name', 'a/../../../../../sentinel.txt'],
  ['dot then dot-dot', './../../../../sentinel.txt'],
  ['encoded traversal after a name', 'a%2f..%2f..%2f..%2f..%2f..%2fsentinel.txt'],
  ['mlflow-artifacts URI with ..', 'mlflow-artifacts:/../../../../sentinel.txt'],
  ['encoded mlflow-artifacts URI', 'mlflow-artifacts%3a%2f..%2f..%2fsentinel.txt'],
  ['overlong path (unbounded input)', 'a/'.repeat(700)],
];

/** Root-relative proxy paths: the MLflow proxy resolves them against the artifact root itself. */
const HOSTILE_AT_ROOT: readonly string[] = [
  '../sentinel.txt',
  '%2fetc%2fpasswd',
  '..%2fsentinel.txt',
  '%252e%252e%252fsentinel.txt',
  '/etc/passwd',
  'C:%5c',
  '..\\sentinel.txt',
  'mlflow-artifacts:/../sentinel.txt',
  '%e2%80%a5/sentinel.txt',
];

describe('hostile artifact paths', () => {
  let s: ArtifactServer;
  let runId: string;
  let sentinel: string;
  let home: string;
  let homeBefore: string[];
  let sentinelBefore: { mtimeMs: number; size: number };

  before(async () => {
    s = await startArtifactServer();
    runId = await s.startRun();
    home = s.config.home;
    sentinel = join(home, 'sentinel.txt');
    await writeFile(sentinel, SECRET);
    await mkdir(join(home, 'outside'));
    await writeFile(join(home, 'outside', 'victim.txt'), SECRET);
    assert.equal(join(fileUrlPath(s.config.artifactsUrl), '..', 'sentinel.txt'), sentinel);
    await s.send('PUT', `/api/v1/runs/${runId}/artifacts/real.txt`, { body: 'real' });
    const runDir = join(fileUrlPath(s.config.artifactsUrl), '0', runId, 'artifacts');
    await symlink(sentinel, join(runDir, 'link.txt'));
    await symlink(join(home, 'outside'), join(runDir, 'linkdir'));
    homeBefore = (await readdir(home)).sort();
    sentinelBefore = await stat(sentinel);
  });
  after(() => s.close());

  /**
   * Every artifact route with `raw` put where a client puts the path. On the proxy routes an
   * absolute path appended to a run's prefix is no longer absolute (`…/artifacts//etc/passwd`
   * names `etc/passwd` inside the run), so those are tried at the root, in HOSTILE_AT_ROOT.
   */
  function requests(raw: string): [string, string][] {
    const kiln = `/api/v1/runs/${runId}/artifacts`;
    const proxied = `0/${runId}/artifacts/${raw}`;
    const onKiln: [string, string][] = [
      ['GET', `${kiln}/${raw}`],
      ['PUT', `${kiln}/${raw}`],
      ['DELETE', `${kiln}/${raw}`],
      ['GET', `${kiln}?path=${raw}`],
      ['GET', `/api/2.0/mlflow/artifacts/list?run_id=${runId}&path=${raw}`],
      ['GET', `/ajax-api/2.0/mlflow/artifacts/list?run_id=${runId}&path=${raw}`],
    ];
    if (raw.startsWith('/') || raw.toLowerCase().startsWith('%2f')) return onKiln;
    return [
      ...onKiln,
      ['GET', `/api/2.0/mlflow-artifacts/artifacts/${proxied}`],
      ['PUT', `/api/2.0/mlflow-artifacts/artifacts/${proxied}`],
      ['DELETE', `/api/2.0/mlflow-artifacts/artifacts/${proxied}`],
      ['GET', `/api/2.0/mlflow-artifacts/artifacts?path=${proxied}`],
      ['PUT', `/ajax-api/2.0/mlflow-artifacts/artifacts/${proxied}`],
    ];
  }

  function assertRefused(res: Exchange, what: string): void {
    assert.ok(res.status === 400 || res.status === 404, `${what}: ${res.status} ${res.body.toString().slice(0, 300)}`);
    if (res.status === 404) {
      assert.ok(
        ['ENDPOINT_NOT_FOUND', 'RESOURCE_DOES_NOT_EXIST'].includes(String(res.json?.error_code)),
        `${what}: ${res.body}`,
      );
    }
    assert.ok(!res.body.toString().includes(SECRET), `${what} leaked the sentinel`);
  }

  it(`should refuse ${HOSTILE.length} hostile paths on every artifact route with 400 naming path`, async () => {
    assert.ok(HOSTILE.length >= 30);
    let named = 0;
    let total = 0;
    for (const [name, raw] of HOSTILE) {
      for (const [method, url] of requests(raw)) {
        const what = `${name}: ${method} ${url.slice(0, 120)}`;
        const res = await s.send(method, url, method === 'PUT' ? { body: `PWNED ${name}` } : {});
        assertRefused(res, what);
        total++;
        if (res.status === 400 && /^(path|query\.path): /.test(String(res.json?.message))) named++;
      }
    }
    // Only the router's own refusals (undecodable escapes such as %c0) may skip naming the field.
    assert.ok(named >= total * 0.9, `${named} of ${total} refusals name path`);
  });

  it('should refuse root-relative traversal on the proxy routes', async () => {
    for (const raw of HOSTILE_AT_ROOT) {
      for (const [method, url] of [
        ['GET', `/api/2.0/mlflow-artifacts/artifacts/${raw}`],
        ['PUT', `/api/2.0/mlflow-artifacts/artifacts/${raw}`],
        ['DELETE', `/api/2.0/mlflow-artifacts/artifacts/${raw}`],
        ['GET', `/api/2.0/mlflow-artifacts/artifacts?path=${raw}`],
      ] as const) {
        assertRefused(await s.send(method, url, method === 'PUT' ? { body: 'PWNED' } : {}), `${method} ${url}`);
      }
    }
  });

  it('should not follow symbolic links out of the root', async () => {
    const kiln = `/api/v1/runs/${runId}/artifacts`;
    const proxy = `/api/2.0/mlflow-artifacts/artifacts/0/${runId}/artifacts`;
    for (const url of [
      `${kiln}/link.txt`,
      `${proxy}/link.txt`,
      `${kiln}/linkdir/victim.txt`,
      `${proxy}/linkdir/victim.txt`,
    ]) {
      const res = await s.send('GET', url);
      assert.notEqual(res.status, 200, url);
      assert.ok(res.status < 500, `${url}: ${res.status}`);
      assert.ok(!res.body.toString().includes(SECRET), `${url} leaked the sentinel`);
    }
    const listing = await s.send('GET', `${kiln}`);
    assert.deepEqual(listing.json?.files, [{ path: 'real.txt', is_dir: false, file_size: 4 }]);
    const inside = await s.send('GET', `${kiln}?path=linkdir`);
    assert.deepEqual(inside.json?.files, []);
    for (const url of [`${kiln}/linkdir/victim.txt`, `${proxy}/linkdir/new.txt`]) {
      const res = await s.send('PUT', url, { body: 'PWNED' });
      assert.ok(res.status >= 400 && res.status < 500, `${url}: ${res.status}`);
    }
    const deleted = await s.send('DELETE', `${kiln}/linkdir/victim.txt`);
    assert.ok(deleted.status >= 400 && deleted.status < 500);
  });

  it('should leave the sentinel unread, unchanged and undeleted, and create nothing outside the root', async () => {
    assert.equal(await readFile(sentinel, 'utf8'), SECRET);
    const now = await stat(sentinel);
    assert.equal(now.mtimeMs, sentinelBefore.mtimeMs);
    assert.equal(now.size, sentinelBefore.size);
    assert.equal(await readFile(join(home, 'outside', 'victim.txt'), 'utf8'), SECRET);
    assert.deepEqual(await readdir(join(home, 'outside')), ['victim.txt']);
    const homeNow = (await readdir(home)).filter((name) => !/^kiln\.db-(wal|shm)$/.test(name)).sort();
    assert.deepEqual(
      homeNow,
      homeBefore.filter((name) => !/^kiln\.db-(wal|shm)$/.test(name)),
    );
  });
});
