import assert from 'node:assert/strict';
import { resolve } from 'node:path';
import { describe, it } from 'node:test';
import { CONFIG_VARS, configMarkdownTable, describeConfig, loadConfig, maskSecret, parseByteSize } from './config.js';
import { KilnError } from './errors.js';

function configError(env: Record<string, string>): KilnError {
  try {
    loadConfig(env);
  } catch (err) {
    assert.ok(err instanceof KilnError);
    return err;
  }
  assert.fail(`expected ${JSON.stringify(env)} to be rejected`);
}

describe('loadConfig', () => {
  it('resolves the embedded defaults under KILN_HOME', () => {
    const config = loadConfig({ KILN_HOME: '/tmp/kiln-home' });
    assert.equal(config.home, '/tmp/kiln-home');
    assert.equal(config.databaseUrl, 'sqlite:///tmp/kiln-home/kiln.db');
    assert.equal(config.artifactsUrl, 'file:///tmp/kiln-home/artifacts');
    assert.equal(config.queueUrl, 'local');
    assert.equal(config.host, '127.0.0.1');
    assert.equal(config.port, 5000);
    assert.equal(config.logLevel, 'info');
    assert.equal(config.bodyLimit, 16 * 1024 * 1024);
  });

  it('defaults KILN_HOME to ./.kiln relative to the working directory', () => {
    assert.equal(loadConfig({}).home, resolve('.kiln'));
  });

  it('accepts the scale-out URLs', () => {
    const config = loadConfig({
      KILN_DATABASE_URL: 'postgres://kiln:secret@db:5432/kiln',
      KILN_ARTIFACTS_URL: 's3://bucket/prefix/',
      KILN_QUEUE_URL: 'redis://cache:6379',
      KILN_S3_ENDPOINT: 'http://127.0.0.1:9000/',
    });
    assert.equal(config.databaseUrl, 'postgres://kiln:secret@db:5432/kiln');
    assert.equal(config.artifactsUrl, 's3://bucket/prefix');
    assert.equal(config.queueUrl, 'redis://cache:6379');
    assert.equal(config.s3Endpoint, 'http://127.0.0.1:9000');
  });

  it('normalises relative sqlite and artifact paths to absolute ones', () => {
    const config = loadConfig({ KILN_DATABASE_URL: 'sqlite:./x.db', KILN_ARTIFACTS_URL: 'blobs' });
    assert.equal(config.databaseUrl, `sqlite://${resolve('x.db')}`);
    assert.equal(config.artifactsUrl, `file://${resolve('blobs')}`);
  });

  it('treats empty values as unset', () => {
    assert.equal(loadConfig({ KILN_PORT: '  ' }).port, 5000);
  });

  const bad: Array<[string, string, RegExp]> = [
    ['KILN_PORT', 'abc', /expected an integer/],
    ['KILN_PORT', '70000', /from 0 to 65535/],
    ['KILN_PORT', '80.5', /expected an integer/],
    ['KILN_LOG_LEVEL', 'loud', /expected one of fatal/],
    ['KILN_DATABASE_URL', 'mysql://x/y', /expected sqlite:<path> or postgres/],
    ['KILN_DATABASE_URL', 'sqlite:', /needs a file path/],
    ['KILN_ARTIFACTS_URL', 'gs://bucket', /expected file:\/\/, s3:\/\/ or a path/],
    ['KILN_QUEUE_URL', 'amqp://x', /expected 'local' or redis/],
    ['KILN_BODY_LIMIT', 'lots', /expected a size/],
    ['KILN_HOST', 'bad host', /host name or IP/],
    ['KILN_S3_ENDPOINT', 'ftp://x', /expected http/],
    ['KILN_WORKER_CONCURRENCY', '0', /from 1 to 256/],
    ['KILN_CHECK_TRANSACTIONS', 'maybe', /expected true or false/],
  ];
  for (const [name, value, problem] of bad) {
    it(`rejects ${name}=${value} naming the variable`, () => {
      const err = configError({ [name]: value });
      assert.equal(err.code, 'INVALID_CONFIGURATION');
      assert.ok(err.message.startsWith(`${name}: `), err.message);
      assert.match(err.message, problem);
      assert.deepEqual(err.details, { variable: name });
    });
  }
});

describe('parseByteSize', () => {
  it('reads plain bytes and binary units', () => {
    assert.equal(parseByteSize('1048576'), 1048576);
    assert.equal(parseByteSize('512kb'), 512 * 1024);
    assert.equal(parseByteSize('16MB'), 16 * 1024 * 1024);
    assert.equal(parseByteSize('1 gb'), 1024 ** 3);
  });
});

describe('describeConfig', () => {
  it('masks credentials and reports where each value came from', () => {
    const env = { KILN_DATABASE_URL: 'postgres://kiln:hunter2@db/kiln', KILN_QUEUE_URL: 'redis://:pw@cache:6379' };
    const rows = describeConfig(loadConfig(env), env);
    const db = rows.find((r) => r.env === 'KILN_DATABASE_URL');
    const queue = rows.find((r) => r.env === 'KILN_QUEUE_URL');
    const port = rows.find((r) => r.env === 'KILN_PORT');
    assert.equal(db?.value, 'postgres://kiln:***@db/kiln');
    assert.equal(db?.source, 'environment');
    assert.equal(queue?.value, 'redis://:***@cache:6379');
    assert.equal(port?.source, 'default');
    assert.ok(!JSON.stringify(rows).includes('hunter2'));
  });

  it('lists every registered variable once', () => {
    const names = describeConfig(loadConfig({}), {}).map((r) => r.env);
    assert.deepEqual(
      names,
      CONFIG_VARS.map((v) => v.env),
    );
    assert.equal(new Set(names).size, names.length);
  });
});

describe('maskSecret', () => {
  it('leaves URLs without credentials alone', () => {
    assert.equal(maskSecret('redis://cache:6379'), 'redis://cache:6379');
    assert.equal(maskSecret('local'), 'local');
  });
});

describe('configMarkdownTable', () => {
  it('has a row per variable', () => {
    const lines = configMarkdownTable().split('\n');
    assert.equal(lines.length, CONFIG_VARS.length + 2);
    for (const v of CONFIG_VARS) assert.ok(lines.some((l) => l.startsWith(`| \`${v.env}\``)));
  });
});
