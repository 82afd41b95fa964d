import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parseAllDocuments, parse as parseYaml } from 'yaml';
import { KilnError } from '../../core/index.js';
import { dockerfile } from './dockerfile.js';
import { kserveInferenceService, kubernetesManifests } from './kubernetes.js';
import {
  DEFAULT_SERVE_IMAGE,
  type PackageInput,
  packageInputFromDeployment,
  resolvePackageOptions,
  SERVE_KILN_HOME,
  SERVE_PATHS,
  SERVE_SECRET_VARIABLES,
  SERVE_USER,
} from './options.js';

// biome-ignore lint/suspicious/noExplicitAny: parsed YAML is walked by path in assertions
type Doc = any;

/** Every document of a YAML stream, parsed; a YAML error fails the test. */
function documents(text: string): Doc[] {
  return parseAllDocuments(text).map((doc) => {
    assert.deepEqual(doc.errors, [], String(doc.errors));
    return doc.toJS();
  });
}

function byKind(docs: Doc[], kind: string): Doc {
  const found = docs.filter((d) => d.kind === kind);
  assert.equal(found.length, 1, `one ${kind}`);
  return found[0];
}

const FLIGHTS: PackageInput = {
  deployment: 'flights',
  models: ['models:/flights@champion', 'models:/flights/7'],
  image: 'registry.example.com/team/kiln-flights:1.2.0',
  replicas: 3,
  minReplicas: 2,
  maxReplicas: 8,
  targetCpu: 60,
  cpu: '500m',
  cpuLimit: '2',
  memory: '768Mi',
};

/** Asserts that `run` throws a 400 KilnError naming `field`. */
function refuses(run: () => unknown, field: string, message?: RegExp): void {
  assert.throws(run, (err: unknown) => {
    assert.ok(err instanceof KilnError, String(err));
    assert.equal(err.status, 400);
    assert.equal(err.details?.['field'], field, err.message);
    assert.ok(err.message.startsWith(`${field}: `), err.message);
    if (message) assert.match(err.message, message);
    return true;
  });
}

describe('kubernetesManifests', () => {
  const docs = documents(kubernetesManifests(FLIGHTS));
  const deployment = byKind(docs, 'Deployment');
  const service = byKind(docs, 'Service');
  const hpa = byKind(docs, 'HorizontalPodAutoscaler');
  const pod = deployment.spec.template.spec;
  const container = pod.containers[0];

  it('is a YAML stream of a Deployment, a Service and a HorizontalPodAutoscaler with their API versions', () => {
    assert.deepEqual(
      docs.map((d) => [d.kind, d.apiVersion]),
      [
        ['Deployment', 'apps/v1'],
        ['Service', 'v1'],
        ['HorizontalPodAutoscaler', 'autoscaling/v2'],
      ],
    );
    for (const doc of docs) assert.equal(doc.metadata.name, 'flights');
  });

  it('probes readiness (startup too) and liveness on the serve endpoints at the container port', () => {
    assert.equal(pod.containers.length, 1);
    const port = container.ports.find((p: Doc) => p.name === 'http');
    assert.equal(port.containerPort, 8080);
    assert.deepEqual(container.readinessProbe.httpGet, { path: SERVE_PATHS.ready, port: 8080, scheme: 'HTTP' });
    assert.deepEqual(container.startupProbe.httpGet, { path: SERVE_PATHS.ready, port: 8080, scheme: 'HTTP' });
    assert.deepEqual(container.livenessProbe.httpGet, { path: SERVE_PATHS.live, port: 8080, scheme: 'HTTP' });
    assert.equal(SERVE_PATHS.ready, '/v2/health/ready');
    assert.equal(SERVE_PATHS.live, '/v2/health/live');
    const startupSeconds = container.startupProbe.periodSeconds * container.startupProbe.failureThreshold;
    assert.ok(startupSeconds >= 120, `a model load gets ${startupSeconds}s before the pod is restarted`);

    const other = byKind(documents(kubernetesManifests({ ...FLIGHTS, port: 9090 })), 'Deployment');
    const c = other.spec.template.spec.containers[0];
    assert.equal(c.ports[0].containerPort, 9090);
    for (const probe of ['readinessProbe', 'livenessProbe', 'startupProbe']) assert.equal(c[probe].httpGet.port, 9090);
    assert.deepEqual(c.args, ['serve', 'flights', '--port', '9090']);
  });

  it('runs the given image with kiln serve for the deployment, and the requested resources', () => {
    assert.equal(container.image, FLIGHTS.image);
    assert.deepEqual(container.args, ['serve', 'flights', '--port', '8080']);
    assert.deepEqual(container.resources, {
      requests: { cpu: '500m', memory: '768Mi' },
      limits: { cpu: '2', memory: '768Mi' },
    });
    assert.equal(deployment.spec.replicas, 3);
    assert.deepEqual(deployment.spec.strategy.rollingUpdate, { maxSurge: 1, maxUnavailable: 0 });
    assert.equal(deployment.metadata.annotations['kiln/models'], 'models:/flights@champion,models:/flights/7');

    const defaults = byKind(documents(kubernetesManifests({ model: 'models:/flights@champion' })), 'Deployment');
    const d = defaults.spec.template.spec.containers[0];
    assert.equal(d.image, DEFAULT_SERVE_IMAGE);
    assert.deepEqual(d.args, ['serve', 'models:/flights@champion', '--port', '8080']);
    assert.deepEqual(d.resources.requests, d.resources.limits, 'requests = limits unless told otherwise');
  });

  it('has a ClusterIP Service selecting exactly the Deployment pods and targeting the container port', () => {
    assert.equal(service.spec.type, 'ClusterIP');
    assert.deepEqual(service.spec.selector, deployment.spec.selector.matchLabels);
    const podLabels = deployment.spec.template.metadata.labels;
    for (const [key, value] of Object.entries(service.spec.selector)) assert.equal(podLabels[key], value, key);
    const [port] = service.spec.ports;
    assert.equal(port.port, 80);
    const target = container.ports.find((p: Doc) => p.name === port.targetPort || p.containerPort === port.targetPort);
    assert.equal(target?.containerPort, 8080, 'the Service targets the port kiln serve listens on');
  });

  it('autoscales the Deployment on CPU utilisation between min and max replicas', () => {
    assert.deepEqual(hpa.spec.scaleTargetRef, { apiVersion: 'apps/v1', kind: 'Deployment', name: 'flights' });
    assert.equal(hpa.spec.minReplicas, 2);
    assert.equal(hpa.spec.maxReplicas, 8);
    assert.deepEqual(hpa.spec.metrics, [
      { type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 60 } } },
    ]);
  });

  it('runs the pod as the image user, non-root, with a read-only root file system and writable scratch', () => {
    assert.equal(pod.securityContext.runAsNonRoot, true);
    assert.equal(pod.securityContext.runAsUser, SERVE_USER.uid);
    assert.match(dockerfile(FLIGHTS), new RegExp(`^USER ${SERVE_USER.uid}:`, 'm'), 'the same uid as the image');
    assert.equal(container.securityContext.allowPrivilegeEscalation, false);
    assert.equal(container.securityContext.readOnlyRootFilesystem, true);
    assert.deepEqual(container.securityContext.capabilities.drop, ['ALL']);
    const mounts = new Map(container.volumeMounts.map((m: Doc) => [m.mountPath, m.name]));
    for (const path of ['/tmp', SERVE_KILN_HOME]) {
      const volume = pod.volumes.find((v: Doc) => v.name === mounts.get(path));
      assert.ok(volume?.emptyDir !== undefined, `${path} is a writable emptyDir`);
    }
  });

  it('reads the database and artifact URLs from a Secret, never inline', () => {
    for (const variable of SERVE_SECRET_VARIABLES) {
      const entry = container.env.find((e: Doc) => e.name === variable);
      assert.equal(entry.value, undefined);
      assert.deepEqual(entry.valueFrom.secretKeyRef, { name: 'flights-kiln', key: variable });
    }
    const named = byKind(documents(kubernetesManifests({ ...FLIGHTS, secretName: 'kiln-prod' })), 'Deployment');
    const refs = named.spec.template.spec.containers[0].env.map((e: Doc) => e.valueFrom?.secretKeyRef?.name);
    assert.ok(refs.includes('kiln-prod'));
    assert.equal(container.env.find((e: Doc) => e.name === 'KILN_HOST').value, '0.0.0.0');
  });

  it('labels every object alike and annotates the pods for Prometheus scraping of the metrics endpoint', () => {
    for (const doc of docs) assert.deepEqual(doc.metadata.labels, deployment.metadata.labels);
    assert.equal(deployment.metadata.labels['app.kubernetes.io/part-of'], 'kiln');
    assert.deepEqual(deployment.spec.template.metadata.annotations, {
      'prometheus.io/scrape': 'true',
      'prometheus.io/port': '8080',
      'prometheus.io/path': SERVE_PATHS.metrics,
    });
  });
});

describe('kserveInferenceService', () => {
  const text = kserveInferenceService({ ...FLIGHTS, port: 8080 });
  const [isvc] = documents(text);
  const predictor = isvc.spec.predictor;
  const container = predictor.containers[0];

  it('is a serving.kserve.io/v1beta1 InferenceService with one custom predictor container speaking OIP v2', () => {
    assert.equal(isvc.apiVersion, 'serving.kserve.io/v1beta1');
    assert.equal(isvc.kind, 'InferenceService');
    assert.equal(isvc.metadata.name, 'flights');
    assert.equal(predictor.containers.length, 1);
    assert.equal(container.name, 'kserve-container');
    assert.equal(container.image, FLIGHTS.image);
    assert.deepEqual(container.args, ['serve', 'flights', '--port', '8080']);
    assert.deepEqual(
      container.env.find((e: Doc) => e.name === 'PROTOCOL'),
      { name: 'PROTOCOL', value: 'v2' },
    );
    assert.deepEqual(container.ports, [{ name: 'http', containerPort: 8080, protocol: 'TCP' }]);
  });

  it('probes the serve endpoints and sets resources, autoscaling and Prometheus scraping', () => {
    assert.equal(container.readinessProbe.httpGet.path, SERVE_PATHS.ready);
    assert.equal(container.livenessProbe.httpGet.path, SERVE_PATHS.live);
    assert.equal(container.readinessProbe.httpGet.port, 8080);
    assert.deepEqual(container.resources.limits, { cpu: '2', memory: '768Mi' });
    assert.equal(predictor.minReplicas, 2);
    assert.equal(predictor.maxReplicas, 8);
    assert.equal(predictor.scaleMetric, 'cpu');
    assert.equal(predictor.scaleTarget, 60);
    const annotations = isvc.metadata.annotations;
    assert.equal(annotations['serving.kserve.io/deploymentMode'], 'RawDeployment');
    assert.equal(annotations['serving.kserve.io/autoscalerClass'], 'hpa');
    assert.equal(annotations['serving.kserve.io/enable-prometheus-scraping'], 'true');
    assert.equal(annotations['prometheus.kserve.io/path'], SERVE_PATHS.metrics);
    assert.equal(annotations['prometheus.kserve.io/port'], '8080');
    assert.equal(predictor.securityContext.runAsNonRoot, true);
  });

  it('refuses a name KServe cannot use', () => {
    refuses(() => kserveInferenceService({ deployment: '3-flights' }), 'name', /start with a letter/);
    refuses(() => kserveInferenceService({ deployment: 'f'.repeat(60) }), 'name', /too long for KServe/);
  });
});

describe('resolvePackageOptions', () => {
  it('refuses bad input with a 400 naming the field', () => {
    refuses(() => resolvePackageOptions({ deployment: 'Flights_GBDT' }), 'name', /DNS-1123/);
    refuses(() => resolvePackageOptions({ deployment: 'flights', name: 'a'.repeat(64) }), 'name');
    refuses(() => resolvePackageOptions({ deployment: 'flights', name: '-flights' }), 'name');
    refuses(() => resolvePackageOptions({}), 'deployment');
    refuses(() => resolvePackageOptions({ deployment: '--port' }), 'deployment');
    refuses(() => resolvePackageOptions({ deployment: 'a', model: 'models:/a/1' }), 'model');
    refuses(() => resolvePackageOptions({ model: './model.onnx' }), 'model', /not a registry model reference/);
    refuses(() => resolvePackageOptions({ model: 'models:/flights/0' }), 'model');
    refuses(() => resolvePackageOptions({ model: 'models:/flights@latest' }), 'model');
    refuses(() => resolvePackageOptions({ deployment: 'flights', models: ['models:/a/1', 'nope'] }), 'models[1]');
    refuses(() => resolvePackageOptions({ deployment: 'flights', port: 80 }), 'port', /non-root/);
    refuses(() => resolvePackageOptions({ deployment: 'flights', port: 70000 }), 'port');
    refuses(() => resolvePackageOptions({ deployment: 'flights', replicas: 0 }), 'replicas');
    refuses(() => resolvePackageOptions({ deployment: 'flights', minReplicas: 5, maxReplicas: 3 }), 'maxReplicas');
    refuses(() => resolvePackageOptions({ deployment: 'flights', replicas: 1, minReplicas: 2 }), 'replicas');
    refuses(() => resolvePackageOptions({ deployment: 'flights', replicas: 9, maxReplicas: 4 }), 'maxReplicas');
    refuses(() => resolvePackageOptions({ deployment: 'flights', targetCpu: 0 }), 'targetCpu');
    refuses(() => resolvePackageOptions({ deployment: 'flights', cpu: '1 core' }), 'cpu');
    refuses(() => resolvePackageOptions({ deployment: 'flights', cpu: '2', cpuLimit: '500m' }), 'cpuLimit');
    refuses(() => resolvePackageOptions({ deployment: 'flights', memory: '512' }), 'memory', /512Mi/);
    refuses(() => resolvePackageOptions({ deployment: 'flights', memory: '2Gi', memoryLimit: '1Gi' }), 'memoryLimit');
    refuses(() => resolvePackageOptions({ deployment: 'flights', image: 'Kiln Flights' }), 'image');
    refuses(() => resolvePackageOptions({ deployment: 'flights', secretName: 'Secret!' }), 'secretName');
    refuses(() => resolvePackageOptions({ deployment: 'flights', baseImageDigest: 'sha256:abc' }), 'baseImageDigest');
  });

  it('fills the defaults and makes a model name DNS-safe', () => {
    const options = resolvePackageOptions({ model: 'models:/Flights_GBDT@champion' });
    assert.equal(options.name, 'flights-gbdt');
    assert.deepEqual(options.serve, { kind: 'model', model: 'models:/Flights_GBDT@champion' });
    assert.equal(options.port, 8080);
    assert.equal(options.replicas, 2);
    assert.equal(options.minReplicas, 2);
    assert.equal(options.maxReplicas, 10);
    assert.equal(options.secretName, 'flights-gbdt-kiln');
    const scaled = resolvePackageOptions({ deployment: 'flights', minReplicas: 12 });
    assert.deepEqual([scaled.replicas, scaled.minReplicas, scaled.maxReplicas], [12, 12, 12]);
    assert.ok(resolvePackageOptions({ deployment: 'flights', image: `localhost:5000/kiln@sha256:${'a'.repeat(64)}` }));
  });

  it('takes the name and target models of a deployment as the API returns it, bare or wrapped', () => {
    const spec = {
      workspace: 'default',
      name: 'flights',
      strategy: 'canary',
      targets: [
        { model: 'models:/flights@champion', role: 'primary', weight: 0 },
        { model: 'models:/flights/9', role: 'canary', weight: 10 },
      ],
    };
    const expected = { deployment: 'flights', models: ['models:/flights@champion', 'models:/flights/9'] };
    assert.deepEqual(packageInputFromDeployment(spec), expected);
    assert.deepEqual(packageInputFromDeployment({ deployment: spec }), expected);
    refuses(() => packageInputFromDeployment({ deployments: [] }), 'deployment');
  });
});

describe('external validators', () => {
  it('pass kubeconform (Kubernetes objects, strict) when it is installed', async (t) => {
    if (spawnSync('kubeconform', ['-v'], { encoding: 'utf8' }).error !== undefined) {
      t.skip('kubeconform is not installed');
      return;
    }
    const dir = await mkdtemp(join(tmpdir(), 'kiln-kubeconform-'));
    try {
      const file = join(dir, 'manifests.yaml');
      await writeFile(file, kubernetesManifests(FLIGHTS));
      const run = spawnSync('kubeconform', ['-strict', '-summary', file], { encoding: 'utf8', timeout: 120_000 });
      if (run.status !== 0 && /could not find schema|no such host|dial tcp|timeout/i.test(run.stdout + run.stderr)) {
        t.skip('kubeconform cannot download its schemas here');
        return;
      }
      assert.equal(run.status, 0, run.stdout + run.stderr);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('pass kubectl apply --dry-run=server when kubectl has a cluster', async (t) => {
    const config = process.env['KUBECONFIG'] ?? join(homedir(), '.kube', 'config');
    if (
      spawnSync('kubectl', ['version', '--client'], { encoding: 'utf8' }).error !== undefined ||
      !existsSync(config)
    ) {
      t.skip('kubectl is not installed or has no cluster configured');
      return;
    }
    const dir = await mkdtemp(join(tmpdir(), 'kiln-kubectl-'));
    try {
      const file = join(dir, 'manifests.yaml');
      await writeFile(file, kubernetesManifests(FLIGHTS));
      const run = spawnSync('kubectl', ['apply', '--dry-run=server', '-f', file], {
        encoding: 'utf8',
        timeout: 60_000,
      });
      if (run.status !== 0 && /connection refused|Unable to connect|no such host/i.test(run.stderr)) {
        t.skip('the configured cluster is not reachable');
        return;
      }
      assert.equal(run.status, 0, run.stdout + run.stderr);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('writes no YAML aliases or anchors, which some tools reject', () => {
    for (const text of [kubernetesManifests(FLIGHTS), kserveInferenceService(FLIGHTS)]) {
      for (const doc of parseAllDocuments(text)) {
        assert.doesNotMatch(String(doc), /(^|\s)[&*][a-z]\d/m);
      }
      assert.deepEqual(parseYaml(text.split('\n---\n')[0] ?? ''), documents(text)[0]);
    }
  });
});
