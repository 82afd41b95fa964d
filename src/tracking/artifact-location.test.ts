import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { KilnError } from '../core/index.js';
import { ArtifactRoot } from './artifact-location.js';
import { rejectsWith } from './testing/harness.js';

const fileRoot = new ArtifactRoot('/srv/kiln/artifacts');
const s3Root = new ArtifactRoot('s3://bucket/prefix/');
const proxyRoot = new ArtifactRoot('mlflow-artifacts:/');

describe('artifact root', () => {
  it('should normalise the root and derive experiment and run locations', () => {
    assert.equal(fileRoot.base, 'file:///srv/kiln/artifacts');
    assert.equal(s3Root.base, 's3://bucket/prefix');
    assert.equal(proxyRoot.experimentLocation('7'), 'mlflow-artifacts:/7');
    assert.equal(fileRoot.experimentLocation('0'), 'file:///srv/kiln/artifacts/0');
    assert.equal(proxyRoot.runArtifactUri('mlflow-artifacts:/7/', 'ab12'), 'mlflow-artifacts:/7/ab12/artifacts');
    assert.equal(new ArtifactRoot('file:///srv/a/').base, 'file:///srv/a');
    assert.equal(new ArtifactRoot('mlflow-artifacts:').base, 'mlflow-artifacts:');
  });

  it('should refuse roots it cannot serve', () => {
    for (const root of [
      '',
      'http://host/x',
      's3://',
      'file://host/x',
      'mlflow-artifacts:/x',
      's3://b/p?x=1',
      'relative/dir',
    ]) {
      assert.throws(
        () => new ArtifactRoot(root),
        (err: unknown) => err instanceof KilnError && err.code === 'INVALID_CONFIGURATION',
        root,
      );
    }
  });

  it('should accept locations under the root and the proxy form, canonicalised', () => {
    const accepted: Array<[ArtifactRoot, string, string]> = [
      [fileRoot, 'file:///srv/kiln/artifacts/team/churn', 'file:///srv/kiln/artifacts/team/churn'],
      [fileRoot, 'file:/srv/kiln/artifacts/team//churn/', 'file:///srv/kiln/artifacts/team/churn'],
      [fileRoot, 'FILE:///srv/kiln/artifacts/./a', 'file:///srv/kiln/artifacts/a'],
      [fileRoot, 'mlflow-artifacts:/team/churn', 'mlflow-artifacts:/team/churn'],
      [s3Root, 's3://bucket/prefix/models/x', 's3://bucket/prefix/models/x'],
      [s3Root, 'mlflow-artifacts:/a', 'mlflow-artifacts:/a'],
      [proxyRoot, 'mlflow-artifacts:/données/été', 'mlflow-artifacts:/données/été'],
    ];
    for (const [root, location, canonical] of accepted) assert.equal(root.checkLocation(location), canonical, location);
  });

  it('should refuse hostile and foreign locations (mlflow.md §6.5)', () => {
    const refused: Array<[ArtifactRoot, string]> = [
      [fileRoot, 'file:///etc/passwd'],
      [fileRoot, 'file:///srv/kiln/artifacts'],
      [fileRoot, 'file:///srv/kiln/artifactsX/y'],
      [fileRoot, 'file:///srv/kiln/artifacts/../secrets'],
      [fileRoot, 'file:///srv/kiln/artifacts/a/%2e%2e/%2e%2e/x'],
      [fileRoot, 'file:///srv/kiln/artifacts/a/%252e%252e/x'],
      [fileRoot, 'file:///srv/kiln/artifacts/a/..%2fx'],
      [fileRoot, 'file:///srv/kiln/artifacts/a/%c0%ae%c0%ae/x'],
      [fileRoot, 'file:///srv/kiln/artifacts/\uff0e\uff0e/x'],
      [fileRoot, 'file:///srv/kiln/artifacts/a\\..\\..\\x'],
      [fileRoot, 'file:///srv/kiln/artifacts/a\u0000b'],
      [fileRoot, 'file:///srv/kiln/artifacts/a\nb'],
      [fileRoot, 'file:///srv/kiln/artifacts/a?/../../b'],
      [fileRoot, 'file:///srv/kiln/artifacts/a#/../../b'],
      [fileRoot, 'file://evil.example/srv/kiln/artifacts/x'],
      [fileRoot, 'file:///srv/kiln/artifacts/42/other-experiment'],
      [fileRoot, 's3://bucket/x'],
      [fileRoot, '/srv/kiln/artifacts/x'],
      [fileRoot, 'C:/Windows'],
      [fileRoot, 'http://169.254.169.254/latest/meta-data'],
      [fileRoot, 'https://example.com/x'],
      [fileRoot, 'runs:/abc/model'],
      [fileRoot, 'models:/m/1'],
      [fileRoot, 'dbfs:/x'],
      [fileRoot, 'mlflow-artifacts://evil.example/x'],
      [fileRoot, 'mlflow-artifacts:/../../etc'],
      [fileRoot, 'mlflow-artifacts:/C:/x'],
      [fileRoot, 'mlflow-artifacts:/0'],
      [s3Root, 's3://bucket/other/x'],
      [s3Root, 's3://bucket/prefix/../x'],
      [s3Root, 's3://other-bucket/prefix/x'],
      [s3Root, 'file:///srv/kiln/artifacts/x'],
      [proxyRoot, 'file:///tmp/x'],
      [proxyRoot, ''],
    ];
    for (const [root, location] of refused) {
      assert.throws(
        () => root.checkLocation(location),
        rejectsWith('INVALID_PARAMETER_VALUE', /^artifact_location: /),
        JSON.stringify(location),
      );
    }
    assert.throws(() => fileRoot.checkLocation(42), rejectsWith('INVALID_PARAMETER_VALUE', /must be a string/));
  });
});
