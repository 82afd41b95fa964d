import { stringify } from 'yaml';
import { invalidParameter, KILN_VERSION } from '../../core/index.js';
import {
  type PackageInput,
  type PackageOptions,
  resolvePackageOptions,
  SERVE_KILN_HOME,
  SERVE_OPTIONAL_SECRET_VARIABLES,
  SERVE_PATHS,
  SERVE_SECRET_VARIABLES,
  SERVE_USER,
  serveArgs,
} from './options.js';

/** A Kubernetes object as plain data, ready for YAML. */
export type KubernetesObject = {
  apiVersion: string;
  kind: string;
  metadata: { name: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  spec: Record<string, unknown>;
};

/** The three objects of a plain Kubernetes deployment of `kiln serve`. */
export interface KubernetesObjects {
  deployment: KubernetesObject;
  service: KubernetesObject;
  hpa: KubernetesObject;
}

/** Annotation and label key prefix for Kiln's own metadata on generated objects. */
export const KILN_ANNOTATION_PREFIX = 'kiln/';

/**
 * Seconds a pod may take to load and warm its model before the startup probe gives up (period ×
 * failure threshold). Liveness is not checked until startup succeeds, so a slow load is never
 * mistaken for a hung process.
 */
export const STARTUP_BUDGET_SECONDS = 300;
const STARTUP_PERIOD_SECONDS = 5;

/** Seconds between SIGTERM and SIGKILL: the preStop pause, then draining requests (default timeout 10 s). */
const TERMINATION_GRACE_SECONDS = 30;
/** Pause before SIGTERM so endpoints and load balancers stop sending new requests first. */
const PRE_STOP_SLEEP_SECONDS = 5;

/** Every object carries these; the selector uses the stable subset. */
function labelsOf(options: PackageOptions): Record<string, string> {
  return {
    ...selectorOf(options),
    'app.kubernetes.io/component': 'model-server',
    'app.kubernetes.io/part-of': 'kiln',
    // Label values allow only [A-Za-z0-9_.-]: a build suffix such as `+sha` becomes `_sha`.
    'app.kubernetes.io/version': KILN_VERSION.replace(/[^A-Za-z0-9_.-]/g, '_').slice(0, 63),
  };
}

function selectorOf(options: PackageOptions): Record<string, string> {
  return { 'app.kubernetes.io/name': options.name, 'app.kubernetes.io/instance': options.name };
}

/** What is served, for people reading `kubectl describe` (model references do not fit label values). */
function kilnAnnotations(options: PackageOptions): Record<string, string> {
  const annotations: Record<string, string> = {};
  if (options.serve.kind === 'deployment')
    annotations[`${KILN_ANNOTATION_PREFIX}deployment`] = options.serve.deployment;
  if (options.models.length > 0) annotations[`${KILN_ANNOTATION_PREFIX}models`] = options.models.join(',');
  return annotations;
}

function httpProbe(path: string, port: number, periodSeconds: number, failureThreshold: number) {
  return { httpGet: { path, port, scheme: 'HTTP' }, periodSeconds, timeoutSeconds: 2, failureThreshold };
}

/**
 * The `kiln serve` container, shared by the Deployment and the KServe predictor: the database and
 * artifact URLs come from a Secret (never inline), the root file system is read-only with emptyDirs
 * for `/tmp` and `KILN_HOME`, and the three probes hit the serve process's health endpoints.
 */
function serveContainer(options: PackageOptions, name: string, extraEnv: { name: string; value: string }[] = []) {
  return {
    name,
    image: options.image,
    imagePullPolicy: 'IfNotPresent',
    args: serveArgs(options),
    ports: [{ name: 'http', containerPort: options.port, protocol: 'TCP' }],
    env: [
      ...extraEnv,
      { name: 'KILN_HOST', value: '0.0.0.0' },
      { name: 'KILN_HOME', value: SERVE_KILN_HOME },
      ...SERVE_SECRET_VARIABLES.map((variable) => ({
        name: variable,
        valueFrom: { secretKeyRef: { name: options.secretName, key: variable } },
      })),
      ...SERVE_OPTIONAL_SECRET_VARIABLES.map((variable) => ({
        name: variable,
        valueFrom: { secretKeyRef: { name: options.secretName, key: variable, optional: true } },
      })),
    ],
    resources: {
      requests: { cpu: options.cpu, memory: options.memory },
      limits: { cpu: options.cpuLimit, memory: options.memoryLimit },
    },
    startupProbe: httpProbe(
      SERVE_PATHS.ready,
      options.port,
      STARTUP_PERIOD_SECONDS,
      STARTUP_BUDGET_SECONDS / STARTUP_PERIOD_SECONDS,
    ),
    readinessProbe: httpProbe(SERVE_PATHS.ready, options.port, 5, 2),
    livenessProbe: httpProbe(SERVE_PATHS.live, options.port, 10, 3),
    lifecycle: { preStop: { exec: { command: ['sleep', String(PRE_STOP_SLEEP_SECONDS)] } } },
    securityContext: {
      runAsNonRoot: true,
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      capabilities: { drop: ['ALL'] },
    },
    volumeMounts: [
      { name: 'tmp', mountPath: '/tmp' },
      { name: 'kiln-home', mountPath: SERVE_KILN_HOME },
    ],
  };
}

/** Pod-level fields shared by the Deployment template and the KServe predictor (which inlines a PodSpec). */
function podFields() {
  return {
    securityContext: {
      runAsNonRoot: true,
      runAsUser: SERVE_USER.uid,
      runAsGroup: SERVE_USER.uid,
      fsGroup: SERVE_USER.uid,
      seccompProfile: { type: 'RuntimeDefault' },
    },
    automountServiceAccountToken: false,
    terminationGracePeriodSeconds: TERMINATION_GRACE_SECONDS,
    volumes: [
      { name: 'tmp', emptyDir: {} },
      { name: 'kiln-home', emptyDir: {} },
    ],
  };
}

/**
 * The Deployment, Service and HorizontalPodAutoscaler that run `kiln serve` for one deployment or
 * model on plain Kubernetes: rolling updates that never drop below the ready count, a startup probe
 * generous enough for a model load, readiness and liveness on the serve process's endpoints,
 * requests = limits by default (predictable latency for CPU-bound models), a non-root read-only
 * pod, Prometheus scrape annotations, a ClusterIP Service selecting exactly these pods, and CPU
 * autoscaling (the zero-dependency signal; no metrics adapter needed).
 *
 * The Deployment's `replicas` is the initial count: once the HPA runs it owns the count.
 *
 * @example
 * const { deployment, service, hpa } = kubernetesObjects({ deployment: 'flights', image: 'registry.example.com/kiln:0.1.0' });
 */
export function kubernetesObjects(input: PackageInput): KubernetesObjects {
  const options = resolvePackageOptions(input);
  const labels = labelsOf(options);
  const metadata = { name: options.name, labels, annotations: kilnAnnotations(options) };
  const deployment: KubernetesObject = {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata,
    spec: {
      replicas: options.replicas,
      revisionHistoryLimit: 5,
      selector: { matchLabels: selectorOf(options) },
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } },
      template: {
        metadata: {
          labels,
          annotations: {
            'prometheus.io/scrape': 'true',
            'prometheus.io/port': String(options.port),
            'prometheus.io/path': SERVE_PATHS.metrics,
          },
        },
        spec: { ...podFields(), containers: [serveContainer(options, 'kiln-serve')] },
      },
    },
  };
  const service: KubernetesObject = {
    apiVersion: 'v1',
    kind: 'Service',
    metadata,
    spec: {
      type: 'ClusterIP',
      selector: selectorOf(options),
      ports: [{ name: 'http', port: options.servicePort, targetPort: 'http', protocol: 'TCP' }],
    },
  };
  const hpa: KubernetesObject = {
    apiVersion: 'autoscaling/v2',
    kind: 'HorizontalPodAutoscaler',
    metadata,
    spec: {
      scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: options.name },
      minReplicas: options.minReplicas,
      maxReplicas: options.maxReplicas,
      metrics: [
        {
          type: 'Resource',
          resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: options.targetCpu } },
        },
      ],
      behavior: {
        scaleUp: {
          stabilizationWindowSeconds: 0,
          policies: [
            { type: 'Percent', value: 100, periodSeconds: 15 },
            { type: 'Pods', value: 4, periodSeconds: 15 },
          ],
          selectPolicy: 'Max',
        },
        scaleDown: { stabilizationWindowSeconds: 300, policies: [{ type: 'Percent', value: 50, periodSeconds: 60 }] },
      },
    },
  };
  return { deployment, service, hpa };
}

/** The name KServe gives the predictor's Deployment and Service must still be a DNS label. */
const KSERVE_SUFFIX = '-predictor';

/**
 * A KServe `InferenceService` running `kiln serve` as a custom predictor container that speaks the
 * Open Inference Protocol v2. A custom container has no `protocolVersion` field (that belongs to
 * `model`-format predictors); KServe reads the protocol from the container's `PROTOCOL=v2`
 * variable instead. Standard (raw Deployment) mode with CPU autoscaling through an HPA, spelled
 * `RawDeployment` so KServe releases before and after the rename both accept it: no Knative, no
 * scale to zero (a cold start of a tabular model server answers "not ready" to the first requests).
 *
 * @example
 * await writeFile('inference-service.yaml', toYamlDocuments([kserveInferenceServiceObject({ deployment: 'flights' })]));
 */
export function kserveInferenceServiceObject(input: PackageInput): KubernetesObject {
  const options = resolvePackageOptions(input);
  if (!/^[a-z]/.test(options.name)) {
    throw invalidParameter(
      'name',
      `'${options.name}' must start with a letter for KServe (a DNS-1035 label)`,
      options.name,
    );
  }
  if (options.name.length + KSERVE_SUFFIX.length > 63) {
    throw invalidParameter(
      'name',
      `'${options.name}' is too long for KServe: '<name>${KSERVE_SUFFIX}' must fit in 63 characters`,
      options.name,
    );
  }
  return {
    apiVersion: 'serving.kserve.io/v1beta1',
    kind: 'InferenceService',
    metadata: {
      name: options.name,
      labels: labelsOf(options),
      annotations: {
        'serving.kserve.io/deploymentMode': 'RawDeployment',
        'serving.kserve.io/autoscalerClass': 'hpa',
        'serving.kserve.io/enable-prometheus-scraping': 'true',
        'prometheus.kserve.io/port': String(options.port),
        'prometheus.kserve.io/path': SERVE_PATHS.metrics,
        ...kilnAnnotations(options),
      },
    },
    spec: {
      predictor: {
        minReplicas: options.minReplicas,
        maxReplicas: options.maxReplicas,
        scaleMetric: 'cpu',
        scaleTarget: options.targetCpu,
        ...podFields(),
        containers: [serveContainer(options, 'kserve-container', [{ name: 'PROTOCOL', value: 'v2' }])],
      },
    },
  };
}

/**
 * Objects as one YAML stream (documents separated by `---`), optionally after a comment header.
 * Long strings are never folded and shared values are written out rather than as YAML aliases, so
 * a reader (and any YAML tool) sees each value where it applies.
 *
 * @example
 * toYamlDocuments([service], 'Generated by kiln package k8s');
 */
export function toYamlDocuments(objects: readonly object[], header?: string): string {
  const comment = header === undefined ? '' : `${header.replace(/^/gm, '# ')}\n`;
  return (
    comment + objects.map((object) => stringify(object, { lineWidth: 0, aliasDuplicateObjects: false })).join('---\n')
  );
}

/** What to do before applying the manifests: the Secret they read. */
function secretHint(options: PackageOptions): string {
  const literals = SERVE_SECRET_VARIABLES.map((v) => `--from-literal=${v}=…`).join(' ');
  return [
    `Kiln ${KILN_VERSION}: kiln serve ${serveArgs(options).slice(1).join(' ')}`,
    'Generated by `kiln package k8s`; regenerate rather than edit.',
    `The pods read ${SERVE_SECRET_VARIABLES.join(' and ')} from the Secret '${options.secretName}'; create it first:`,
    `  kubectl create secret generic ${options.secretName} ${literals}`,
  ].join('\n');
}

/**
 * The Deployment, Service and HorizontalPodAutoscaler of {@link kubernetesObjects} as one
 * multi-document YAML string for `kubectl apply -f -`.
 *
 * @example
 * process.stdout.write(kubernetesManifests({ model: 'models:/flights@champion', replicas: 3 }));
 */
export function kubernetesManifests(input: PackageInput): string {
  const { deployment, service, hpa } = kubernetesObjects(input);
  return toYamlDocuments([deployment, service, hpa], secretHint(resolvePackageOptions(input)));
}

/**
 * The KServe InferenceService of {@link kserveInferenceServiceObject} as YAML.
 *
 * @example
 * process.stdout.write(kserveInferenceService({ deployment: 'flights' }));
 */
export function kserveInferenceService(input: PackageInput): string {
  return toYamlDocuments([kserveInferenceServiceObject(input)], secretHint(resolvePackageOptions(input)));
}

/**
 * The header comment every generated manifest file starts with (what it serves, the Secret to
 * create first), for callers writing one object per file.
 */
export function manifestHeader(input: PackageInput): string {
  return secretHint(resolvePackageOptions(input));
}
