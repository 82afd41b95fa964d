import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { KilnError } from '../core/index.js';
import { checkSource, MAX_SOURCE_LENGTH, parseArtifactRoot } from './source.js';

const ROOT = '/srv/kiln/artifacts';
const fileRoot = parseArtifactRoot(`file://${ROOT}`);
const s3Root = parseArtifactRoot('s3://kiln-bucket/artifacts');
const RUN = '0123456789abcdef0123456789abcdef';

/** Sources an attacker might send (mlflow.md §6.1/§6.2: MLflow's source-URI CVE classes). */
const HOSTILE: ReadonlyArray<readonly [label: string, source: unknown]> = [
  ['http URL (SSRF)', 'http://evil.example.com/model'],
  ['https to cloud metadata (SSRF)', 'https://169.254.169.254/latest/meta-data/'],
  ['ftp URL', 'ftp://files.example.com/model'],
  ['javascript URL', 'javascript:alert(1)'],
  ['data URL', 'data:text/plain;base64,AAAA'],
  ['other stores not on the allow-list', 'hdfs://namenode/models/x'],
  ['gs bucket', 'gs://bucket/model'],
  ['dbfs', 'dbfs:/models/x'],
  ['file URL outside the root (CVE-2023-1177)', 'file:///etc/passwd'],
  ['file URL to /proc (CVE-2023-6977)', 'file:///proc/self/environ'],
  ['bare file root', 'file:///'],
  ['upper-case scheme outside the root', 'FILE:///etc/passwd'],
  ['file URL with a host (UNC)', `file://evil-host${ROOT}/x`],
  ['file URL, single slash form', `file:${ROOT}/x`],
  ['localhost file URL outside the root', 'file://localhost/etc/passwd'],
  ['UNC path', '\\\\server\\share\\model'],
  ['protocol-relative path', '//server/share/model'],
  ['plain path outside the root', '/etc/passwd'],
  ['relative path', 'models/churn'],
  ['the root itself', ROOT],
  ['sibling directory sharing the prefix', `${ROOT}-evil/model`],
  ['plain traversal', `${ROOT}/../../etc/passwd`],
  ['traversal that lands inside', `${ROOT}/a/../b`],
  ['encoded traversal', `file://${ROOT}/%2e%2e/%2e%2e/etc/passwd`],
  ['double-encoded traversal (CVE-2023-6831)', `file://${ROOT}/%252e%252e/secret`],
  ['encoded slash', `file://${ROOT}/..%2fsecret`],
  ['overlong UTF-8 dots', `file://${ROOT}/%c0%ae%c0%ae/x`],
  ['fullwidth dots', `${ROOT}/．．/x`],
  ['backslash traversal (CVE-2023-2780)', `file://${ROOT}/a\\..\\..\\etc`],
  ['Windows drive letter', 'C:\\Windows\\system32'],
  ['Windows drive with slash', 'c:/windows/system32'],
  ['NUL byte', `${ROOT}/model\u0000.pkl`],
  ['newline', `runs:/${RUN}/model\n`],
  ['leading space', ` runs:/${RUN}/model`],
  ['query smuggling a path (CVE-2023-6909)', `mlflow-artifacts:/1/x?path=../../etc`],
  ['fragment smuggling a path (CVE-2024-1483)', 'http:///#/../../../etc/'],
  ['fragment after a valid file source', `${ROOT}/model#/../../etc`],
  ['mlflow-artifacts traversal', 'mlflow-artifacts:/1/../../etc/passwd'],
  ['mlflow-artifacts with an authority', 'mlflow-artifacts://evil.example.com/x'],
  ['empty mlflow-artifacts', 'mlflow-artifacts:'],
  ['runs traversal', `runs:/${RUN}/../../../etc`],
  ['runs with an authority', `runs://${RUN}/model`],
  ['runs with a dot-dot run id', 'runs:/../model'],
  ['empty runs', 'runs:/'],
  ['s3 traversal', 's3://bucket/models/../../other'],
  ['s3 with credentials', 's3://user:pw@bucket/key'],
  ['s3 without a key', 's3://bucket'],
  ['s3 with an empty key', 's3://bucket/'],
  ['s3 with an invalid bucket', 's3://Bad_Bucket/key'],
  ['s3 with an IP bucket', 's3://10.0.0.1/key'],
  ['s3 with a leading slash key', 's3://bucket//etc/passwd'],
  ['models by stage (moves)', 'models:/churn/Production'],
  ['models latest', 'models:/churn/latest'],
  ['models reserved alias', 'models:/churn@latest'],
  ['models version-like alias', 'models:/churn@v1'],
  ['models by logged-model id', 'models:/m-0123456789'],
  ['models with traversal in the name', 'models:/../churn/1'],
  ['models with version zero', 'models:/churn/0'],
  ['empty string', ''],
  ['not a string', 42],
  ['null', null],
  ['too long', `runs:/${RUN}/${'a'.repeat(MAX_SOURCE_LENGTH)}`],
];

const ACCEPTED: ReadonlyArray<readonly [source: string, canonical: string]> = [
  [`runs:/${RUN}/model`, `runs:/${RUN}/model`],
  [`runs:/${RUN}`, `runs:/${RUN}`],
  [`runs:/${RUN}/`, `runs:/${RUN}`],
  [`runs:/${RUN}/a//b/./c/`, `runs:/${RUN}/a/b/c`],
  ['models:/churn/3', 'models:/churn/3'],
  ['models:/churn model/12', 'models:/churn model/12'],
  ['models:/churn@champion', 'models:/churn@champion'],
  ['mlflow-artifacts:/1/abc/artifacts/model', 'mlflow-artifacts:/1/abc/artifacts/model'],
  ['s3://my-bucket/models/churn', 's3://my-bucket/models/churn'],
  ['S3://my-bucket/models//churn', 's3://my-bucket/models/churn'],
  [`file://${ROOT}/exp/1/model`, `file://${ROOT}/exp/1/model`],
  [`file://localhost${ROOT}/exp/model`, `file://${ROOT}/exp/model`],
  [`file://${ROOT}/my%20model`, `file://${ROOT}/my%20model`],
  [`${ROOT}/exp/1/model`, `${ROOT}/exp/1/model`],
  [`${ROOT}//exp/./model`, `${ROOT}/exp/model`],
];

describe('checkSource', () => {
  for (const [label, source] of HOSTILE) {
    it(`rejects ${label}`, () => {
      assert.throws(
        () => checkSource(source, fileRoot),
        (err: unknown) =>
          err instanceof KilnError &&
          err.code === 'INVALID_PARAMETER_VALUE' &&
          err.message.startsWith('source: ') &&
          err.details?.field === 'source',
      );
    });
  }

  for (const [source, canonical] of ACCEPTED) {
    it(`accepts ${source}`, () => {
      assert.equal(checkSource(source, fileRoot).uri, canonical);
    });
  }

  it('parses the parts of each accepted scheme', () => {
    assert.deepEqual(checkSource(`runs:/${RUN}/m/x`, fileRoot).parsed, { kind: 'runs', runId: RUN, path: 'm/x' });
    assert.deepEqual(checkSource('models:/churn@champion', fileRoot).parsed, {
      kind: 'models',
      name: 'churn',
      alias: 'champion',
    });
    assert.deepEqual(checkSource('models:/a b/7', fileRoot).parsed, { kind: 'models', name: 'a b', version: 7 });
    assert.deepEqual(checkSource('s3://b-1/k/v', fileRoot).parsed, { kind: 's3', bucket: 'b-1', key: 'k/v' });
    assert.deepEqual(checkSource(`file://${ROOT}/a%20b`, fileRoot).parsed, { kind: 'file', path: `${ROOT}/a b` });
  });

  it('refuses file and plain-path sources when the root is in S3, and keeps S3 sources', () => {
    assert.throws(() => checkSource(`file://${ROOT}/model`, s3Root), /local directory/);
    assert.throws(() => checkSource(`${ROOT}/model`, s3Root), /local directory/);
    assert.equal(checkSource('s3://kiln-bucket/artifacts/m', s3Root).uri, 's3://kiln-bucket/artifacts/m');
  });

  it('names the field it was asked to', () => {
    assert.throws(() => checkSource('http://x', fileRoot, 'artifact_uri'), /^KilnError: artifact_uri: /);
  });
});

describe('parseArtifactRoot', () => {
  it('reads file and s3 roots', () => {
    assert.deepEqual(parseArtifactRoot('file:///srv/a/'), { kind: 'file', url: 'file:///srv/a/', path: '/srv/a' });
    assert.deepEqual(parseArtifactRoot('s3://bucket/p/q'), {
      kind: 's3',
      url: 's3://bucket/p/q',
      bucket: 'bucket',
      prefix: 'p/q',
    });
  });

  it('refuses anything else as a configuration error', () => {
    assert.throws(
      () => parseArtifactRoot('http://x/y'),
      (err: unknown) => (err as KilnError).code === 'INVALID_CONFIGURATION',
    );
  });
});
