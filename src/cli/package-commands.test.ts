import assert from 'node:assert/strict';
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';
import { SERVE_PATHS } from '../serving/index.js';
import { createProgram } from './program.js';
import { type CliRun, runCli } from './testing/run.js';

/** `kiln package …` through the real CLI, in a child process. */
function kiln(args: readonly string[], url: string): CliRun {
  return runCli(args, url);
}

/**
 * Stands in for the deployments API (GET /api/v1/deployments/<name>) in a child process, so it
 * answers while the synchronous CLI run blocks this one. It answers a stored DeploymentSpec for
 * `flights` (wrapped as `{ deployment }`) and `churn` (bare), and a Kiln 404 for anything else; it
 * prints each request line so tests can see what the CLI asked.
 */
const DEPLOYMENTS_API = `
const http = require('node:http');
const { appendFileSync } = require('node:fs');
const log = process.argv[1];
const wire = (name, strategy, targets) => ({ deployment: { name, strategy, targets, max_queue: 1000,
  timeout_ms: 10000, input: { extra_columns: 'ignore', max_batch_rows: 10000 }, logging: { sample_rate: 1 },
  revision: 1, reason: 'created', created_by: 'anonymous', created_at: '2026-11-28T00:00:00Z' } });
const specs = {
  flights: wire('flights', 'canary', [
    { model: 'models:/flights@champion', role: 'primary', weight: 90 },
    { model: 'models:/flights/9', role: 'canary', weight: 10 } ]),
  churn: wire('churn', 'single', [ { model: 'models:/churn/2', role: 'primary', weight: 100 } ]),
};
const server = http.createServer((req, res) => {
  appendFileSync(log, req.method + ' ' + req.url + '\\n');
  const m = /^\\/api\\/v1\\/deployments\\/([^/?]+)$/.exec(req.url);
  const spec = m && req.method === 'GET' ? specs[decodeURIComponent(m[1])] : undefined;
  res.setHeader('content-type', 'application/json');
  if (spec) { res.end(JSON.stringify(spec)); return; }
  res.statusCode = 404;
  res.end(JSON.stringify({ error_code: 'RESOURCE_DOES_NOT_EXIST', code: 'RESOURCE_DOES_NOT_EXIST',
    message: 'deployment ' + (m ? decodeURIComponent(m[1]) : req.url) + ' does not exist' }));
});
server.listen(0, '127.0.0.1', () => console.log('listening on http://127.0.0.1:' + server.address().port));
`;

let api: ChildProcess;
let url: string;
let scratch: string;

/** Request lines the stand-in has answered so far. */
function requests(): string[] {
  const log = join(scratch, 'requests.log');
  return existsSync(log) ? readFileSync(log, 'utf8').split('\n').filter(Boolean) : [];
}

before(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'kiln-cli-package-'));
  api = spawn(process.execPath, ['-e', DEPLOYMENTS_API, join(scratch, 'requests.log')], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const lines = createInterface({ input: api.stdout as NodeJS.ReadableStream });
  url = await new Promise<string>((resolve, reject) => {
    lines.on('line', (line) => {
      const match = /^listening on (\S+)$/.exec(line);
      if (match?.[1]) resolve(match[1]);
    });
    api.once('exit', (code) => reject(new Error(`the deployments stand-in exited with ${code}`)));
  });
});
after(async () => {
  api?.kill();
  await rm(scratch, { recursive: true, force: true });
});

/** The Dockerfile's runtime CMD, EXPOSE and FROM lines, enough to check what a written file serves. */
function dockerfileFacts(text: string) {
  const line = (keyword: string) =>
    text
      .split('\n')
      .filter((l) => l.startsWith(`${keyword} `))
      .map((l) => l.slice(keyword.length + 1));
  return {
    cmd: JSON.parse(line('CMD').at(-1) ?? 'null'),
    expose: line('EXPOSE'),
    from: line('FROM'),
    user: line('USER'),
  };
}

function yamlFile(path: string) {
  return parseAllDocuments(readFileSync(path, 'utf8')).map((doc) => {
    assert.deepEqual(doc.errors, []);
    return doc.toJS();
  });
}

describe('kiln package docker', () => {
  test('writes a Dockerfile and ignore files for a deployment read from the server', () => {
    const out = join(scratch, 'flights-docker');
    const run = kiln(['package', 'docker', 'flights', '--out', out, '--image', 'kiln-flights:1'], url);
    assert.equal(run.code, 0, run.stderr);
    assert.deepEqual(requests(), ['GET /api/v1/deployments/flights']);
    assert.deepEqual(readdirSync(out).sort(), ['.dockerignore', 'Dockerfile', 'Dockerfile.dockerignore']);
    const text = readFileSync(join(out, 'Dockerfile'), 'utf8');
    const facts = dockerfileFacts(text);
    assert.deepEqual(facts.cmd, ['serve', 'flights', '--port', '8080']);
    assert.deepEqual(facts.expose, ['8080']);
    assert.equal(facts.from.length, 2);
    assert.match(text, /LABEL kiln\.models="models:\/flights@champion,models:\/flights\/9"/);
    assert.match(text, new RegExp(`HEALTHCHECK[^\\n]*\\n[^\\n]*${SERVE_PATHS.ready.replaceAll('/', '\\/')}`));
    assert.match(run.stdout, /docker build -f \S+Dockerfile -t kiln-flights:1 \./);
  });

  test('packages a registry model with --model, without asking the server, and prints the files with --json', () => {
    const out = join(scratch, 'model-docker');
    const before = requests().length;
    const run = kiln(
      ['--json', 'package', 'docker', '--model', 'models:/flights/3', '--out', out, '--port', '9000'],
      url,
    );
    assert.equal(run.code, 0, run.stderr);
    assert.equal(requests().length, before, 'no request for a model');
    const result = JSON.parse(run.stdout);
    assert.deepEqual(result.files.sort(), [
      join(out, '.dockerignore'),
      join(out, 'Dockerfile'),
      join(out, 'Dockerfile.dockerignore'),
    ]);
    const facts = dockerfileFacts(readFileSync(join(out, 'Dockerfile'), 'utf8'));
    assert.deepEqual(facts.cmd, ['serve', 'models:/flights/3', '--port', '9000']);
    assert.deepEqual(facts.expose, ['9000']);
  });

  test('an unknown deployment fails with the server message and writes nothing', () => {
    const out = join(scratch, 'nope-docker');
    const run = kiln(['package', 'docker', 'nope', '--out', out], url);
    assert.equal(run.code, 1);
    assert.match(run.stderr, /nope does not exist/);
    assert.equal(existsSync(out), false);
  });

  test('bad flags and names are usage errors naming the flag, before any request', () => {
    const before = requests().length;
    const port = kiln(['package', 'docker', 'flights', '--port', '80', '--out', join(scratch, 'x')], url);
    assert.equal(port.code, 2);
    assert.match(port.stderr, /--port: .*1024/);
    const name = kiln(['package', 'docker', 'Flights_V2', '--out', join(scratch, 'y')], url);
    assert.equal(name.code, 2);
    assert.match(name.stderr, /--name: 'Flights_V2' is not a DNS-1123 label.*give a name with --name/);
    const neither = kiln(['package', 'docker'], url);
    assert.equal(neither.code, 2);
    assert.match(neither.stderr, /missing the deployment/);
    const both = kiln(['package', 'docker', 'flights', '--model', 'models:/flights/1'], url);
    assert.equal(both.code, 2);
    assert.equal(requests().length, before);
    assert.equal(existsSync(join(scratch, 'x')) || existsSync(join(scratch, 'y')), false);
  });
});

describe('kiln package k8s', () => {
  test('writes a Deployment, Service and HPA carrying the flags, for a deployment read from the server', () => {
    const out = join(scratch, 'churn-k8s');
    const run = kiln(
      [
        'package',
        'k8s',
        'churn',
        '--out',
        out,
        '--image',
        'registry.example.com/kiln:0.1.0',
        '--replicas',
        '3',
        '--min-replicas',
        '2',
        '--max-replicas',
        '6',
        '--cpu',
        '500m',
        '--memory',
        '512Mi',
        '--target-cpu',
        '65',
      ],
      url,
    );
    assert.equal(run.code, 0, run.stderr);
    assert.deepEqual(readdirSync(out).sort(), ['deployment.yaml', 'hpa.yaml', 'service.yaml']);
    const [deployment] = yamlFile(join(out, 'deployment.yaml'));
    const [service] = yamlFile(join(out, 'service.yaml'));
    const [hpa] = yamlFile(join(out, 'hpa.yaml'));
    assert.equal(deployment.kind, 'Deployment');
    assert.equal(service.kind, 'Service');
    assert.equal(hpa.kind, 'HorizontalPodAutoscaler');
    const container = deployment.spec.template.spec.containers[0];
    assert.equal(container.image, 'registry.example.com/kiln:0.1.0');
    assert.deepEqual(container.args, ['serve', 'churn', '--port', '8080']);
    assert.deepEqual(container.resources.requests, { cpu: '500m', memory: '512Mi' });
    assert.equal(container.readinessProbe.httpGet.path, SERVE_PATHS.ready);
    assert.equal(container.livenessProbe.httpGet.path, SERVE_PATHS.live);
    assert.equal(deployment.spec.replicas, 3);
    assert.deepEqual(service.spec.selector, deployment.spec.selector.matchLabels);
    assert.deepEqual([hpa.spec.minReplicas, hpa.spec.maxReplicas], [2, 6]);
    assert.equal(hpa.spec.metrics[0].resource.target.averageUtilization, 65);
    assert.equal(deployment.metadata.annotations['kiln/models'], 'models:/churn/2');
    assert.match(run.stdout, /kubectl create secret generic churn-kiln/);
  });

  test('--kserve writes only a KServe InferenceService for the model', () => {
    const out = join(scratch, 'kserve');
    const run = kiln(['package', 'k8s', '--model', 'models:/Flights@champion', '--kserve', '--out', out], url);
    assert.equal(run.code, 0, run.stderr);
    assert.deepEqual(readdirSync(out), ['inference-service.yaml']);
    const [isvc] = yamlFile(join(out, 'inference-service.yaml'));
    assert.equal(isvc.apiVersion, 'serving.kserve.io/v1beta1');
    assert.equal(isvc.kind, 'InferenceService');
    assert.equal(isvc.metadata.name, 'flights');
    const container = isvc.spec.predictor.containers[0];
    assert.deepEqual(container.args, ['serve', 'models:/Flights@champion', '--port', '8080']);
    assert.ok(container.env.some((e: { name: string; value?: string }) => e.name === 'PROTOCOL' && e.value === 'v2'));
  });

  test('bad quantities and replica bounds are usage errors naming the flag', () => {
    const memory = kiln(['package', 'k8s', '--model', 'models:/flights/1', '--memory', '512'], url);
    assert.equal(memory.code, 2);
    assert.match(memory.stderr, /--memory: .*512Mi/);
    const bounds = kiln(
      ['package', 'k8s', '--model', 'models:/flights/1', '--min-replicas', '4', '--max-replicas', '2'],
      url,
    );
    assert.equal(bounds.code, 2);
    assert.match(bounds.stderr, /--max-replicas: /);
    const notNumber = kiln(['package', 'k8s', '--model', 'models:/flights/1', '--replicas', 'two'], url);
    assert.equal(notNumber.code, 2);
    assert.match(notNumber.stderr, /expected a whole number/);
  });
});
