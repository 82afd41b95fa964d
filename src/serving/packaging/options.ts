import { invalidParameter, KILN_VERSION } from '../../core/index.js';
import { checkAlias, checkModelName } from '../../registry/index.js';

/**
 * The port `kiln serve` listens on unless told otherwise, and the one the packages expose. 8080 is
 * what KServe, MLflow's scoring container and most model servers use, so load balancers and
 * InferenceService defaults fit without change.
 */
export const SERVE_DEFAULT_PORT = 8080;

/**
 * The HTTP paths of a standalone `kiln serve` process that containers and orchestrators probe.
 * The packages point their health checks here, so `kiln serve` must answer on exactly these:
 * liveness never depends on the model (a slow load must not get the pod killed), readiness turns
 * true only once the model is loaded and warmed (Open Inference Protocol v2 health paths; `/ping`
 * is the MLflow / SageMaker spelling of the same readiness), metrics in Prometheus exposition.
 *
 * @example
 * `http://127.0.0.1:${SERVE_DEFAULT_PORT}${SERVE_PATHS.ready}` // http://127.0.0.1:8080/v2/health/ready
 */
export const SERVE_PATHS = {
  live: '/v2/health/live',
  ready: '/v2/health/ready',
  ping: '/ping',
  metrics: '/metrics',
} as const;

/**
 * Configuration variables a packaged server needs at run time and must never find baked into an
 * image: the metadata database (holds credentials) and the artifact store. Kubernetes manifests
 * read them from a Secret under these same key names.
 */
export const SERVE_SECRET_VARIABLES = ['KILN_DATABASE_URL', 'KILN_ARTIFACTS_URL'] as const;

/**
 * Variables passed from the same Secret when present (an S3-compatible artifact store and its
 * credentials); the pod starts without them.
 */
export const SERVE_OPTIONAL_SECRET_VARIABLES = [
  'KILN_S3_ENDPOINT',
  'KILN_S3_REGION',
  'AWS_ACCESS_KEY_ID',
  'AWS_SECRET_ACCESS_KEY',
] as const;

/** The unprivileged user the image runs as (uid = gid), named in the Dockerfile and the pod security context. */
export const SERVE_USER = { name: 'kiln', uid: 10001, home: '/home/kiln' } as const;

/** `KILN_HOME` inside the container: a writable directory of the non-root user (an emptyDir in Kubernetes). */
export const SERVE_KILN_HOME = `${SERVE_USER.home}/.kiln`;

/**
 * What the packaged process serves: a deployment stored in the Kiln database (its targets, strategy
 * and alias following come with it), or one registered model version or alias.
 */
export type ServeSource = { kind: 'deployment'; deployment: string } | { kind: 'model'; model: string };

/**
 * Packaging choices as a caller gives them; everything but the source is optional. Field names are
 * the ones a 400 names, and match the `kiln package` flags (`cpu` ↔ `--cpu`).
 */
export interface PackageInput {
  /** Kiln deployment to serve (`kiln serve <deployment>`); exactly one of `deployment` and `model`. */
  deployment?: string;
  /** Registry model to serve instead: `models:/name/3` or `models:/name@alias`. */
  model?: string;
  /** Models behind the deployment, recorded in labels and annotations for people; not used to serve. */
  models?: readonly string[];
  /** Kubernetes object and container name, a DNS-1123 label. Default: the deployment name, or the model name made DNS-safe. */
  name?: string;
  /** Container image. Default `kiln:<KILN_VERSION>`. */
  image?: string;
  /** Port `kiln serve` listens on inside the container. Default {@link SERVE_DEFAULT_PORT}. */
  port?: number;
  /** Port of the Kubernetes Service. Default 80. */
  servicePort?: number;
  /** Initial pod count. Default `minReplicas`, or 2. */
  replicas?: number;
  /** HorizontalPodAutoscaler floor. Default `replicas`, or 2. */
  minReplicas?: number;
  /** HorizontalPodAutoscaler ceiling. Default the larger of 10 and `minReplicas`. */
  maxReplicas?: number;
  /** Average CPU utilisation (percent of the request) the autoscaler aims for. Default 70. */
  targetCpu?: number;
  /** CPU request, a Kubernetes quantity (`500m`, `1`, `2`). Default `1`. */
  cpu?: string;
  /** CPU limit. Default equal to the request: predictable latency for CPU-bound models. */
  cpuLimit?: string;
  /** Memory request (`512Mi`, `1Gi`). Default `1Gi`. */
  memory?: string;
  /** Memory limit. Default equal to the request. */
  memoryLimit?: string;
  /** Secret holding {@link SERVE_SECRET_VARIABLES}. Default `<name>-kiln`. */
  secretName?: string;
  /** Digest (`sha256:<64 hex>`) to pin the base image to, on top of its exact tag. */
  baseImageDigest?: string;
}

/** {@link PackageInput} checked, with every default filled in. */
export interface PackageOptions {
  name: string;
  serve: ServeSource;
  models: string[];
  image: string;
  port: number;
  servicePort: number;
  replicas: number;
  minReplicas: number;
  maxReplicas: number;
  targetCpu: number;
  cpu: string;
  cpuLimit: string;
  memory: string;
  memoryLimit: string;
  secretName: string;
  baseImageDigest?: string;
}

/** Container image Kiln packages run unless told otherwise. */
export const DEFAULT_SERVE_IMAGE = `kiln:${KILN_VERSION}`;

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const MAX_DNS_LABEL = 63;
const DIGEST = /^sha256:[a-f0-9]{64}$/;
const MODEL_REF = /^models:\/([^@/]+)(?:\/([^/@]*)|@([^/@]*))$/;
const CPU_QUANTITY = /^(?:\d+m|\d+(?:\.\d{1,3})?)$/;
const MEMORY_QUANTITY = /^(\d+(?:\.\d+)?)(Ki|Mi|Gi|Ti|k|M|G|T)?$/;
const MEMORY_FACTORS: Record<string, number> = {
  '': 1,
  k: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  Ki: 2 ** 10,
  Mi: 2 ** 20,
  Gi: 2 ** 30,
  Ti: 2 ** 40,
};
/** Below this a Node.js process with a loaded model gets OOM-killed; almost always a unit typo (`512` for `512Mi`). */
const MIN_MEMORY_BYTES = 128 * 2 ** 20;
/** Image reference: optional registry host[:port], lower-case path, optional tag, optional digest. */
const IMAGE_REF =
  /^(?:[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?(?::\d+)?\/)?[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*(?::[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?(?:@sha256:[a-f0-9]{64})?$/;

/**
 * Returns `value` when it is a DNS-1123 label (what Kubernetes requires of Deployment, Service and
 * container names): 1–63 lower-case letters, digits and `-`, starting and ending with a letter or
 * digit. Otherwise a 400 naming `field`.
 *
 * @example
 * checkDnsLabel('flights-gbdt'); // 'flights-gbdt'
 * checkDnsLabel('Flights_GBDT'); // throws "name: must be a DNS-1123 label …"
 */
export function checkDnsLabel(value: unknown, field = 'name'): string {
  if (typeof value !== 'string' || value.length === 0)
    throw invalidParameter(field, 'must be a non-empty string', value);
  if (value.length > MAX_DNS_LABEL || !DNS_LABEL.test(value)) {
    throw invalidParameter(
      field,
      `'${value}' is not a DNS-1123 label: 1 to ${MAX_DNS_LABEL} lower-case letters, digits or '-', starting and ending with a letter or digit`,
      value,
    );
  }
  return value;
}

/**
 * Returns a registry model reference a server can follow, `models:/name/<version>` or
 * `models:/name@alias`, or a 400 naming `field`. Paths are refused: a file on this machine does not
 * exist inside the container.
 *
 * @example
 * checkServeModelRef('models:/flights@champion'); // { name: 'flights', ref: 'models:/flights@champion' }
 */
export function checkServeModelRef(value: unknown, field = 'model'): { name: string; ref: string } {
  if (typeof value !== 'string' || value.length === 0)
    throw invalidParameter(field, 'must be a non-empty string', value);
  const match = MODEL_REF.exec(value);
  if (match === null) {
    throw invalidParameter(
      field,
      `'${value}' is not a registry model reference; use models:/<name>/<version> or models:/<name>@<alias> (a local file is not in the image)`,
      value,
    );
  }
  const name = checkModelName(field, match[1]);
  if (match[2] !== undefined) {
    if (!/^[1-9]\d{0,15}$/.test(match[2])) {
      throw invalidParameter(field, `version '${match[2]}' must be a positive whole number`, value);
    }
  } else {
    checkAlias(match[3], field);
  }
  return { name, ref: value };
}

/**
 * The deployment name as `kiln serve` will receive it: deployment names follow the model-name rules
 * (no control characters, none of `/ \ @ # ? %`); as one exec-form argument it may hold spaces, but must
 * not start with `-`, which would read as an option.
 */
function checkDeploymentName(value: unknown, field = 'deployment'): string {
  const name = checkModelName(field, value);
  if (name.startsWith('-'))
    throw invalidParameter(field, "must not start with '-' (kiln serve would read an option)", value);
  return name;
}

/** A registered model name made into a DNS-1123 label (lower case, runs of other characters → `-`). */
function dnsNameOf(modelName: string): string {
  return modelName
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .slice(0, MAX_DNS_LABEL)
    .replace(/^-+|-+$/g, '');
}

function checkInteger(value: unknown, field: string, min: number, max: number, why = ''): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw invalidParameter(field, `must be a whole number from ${min} to ${max}${why}`, value);
  }
  return value;
}

/** CPU quantity → cores. */
function cpuCores(value: unknown, field: string): number {
  if (typeof value !== 'string' || !CPU_QUANTITY.test(value)) {
    throw invalidParameter(field, "must be a CPU quantity such as '500m', '1' or '2.5'", value);
  }
  const cores = value.endsWith('m') ? Number(value.slice(0, -1)) / 1000 : Number(value);
  if (!(cores > 0)) throw invalidParameter(field, 'must be more than zero', value);
  return cores;
}

/** Memory quantity → bytes. */
function memoryBytes(value: unknown, field: string): number {
  const match = typeof value === 'string' ? MEMORY_QUANTITY.exec(value) : null;
  if (match === null) {
    throw invalidParameter(field, "must be a memory quantity such as '512Mi' or '2Gi'", value);
  }
  const bytes = Number(match[1]) * (MEMORY_FACTORS[match[2] ?? ''] ?? 1);
  if (bytes < MIN_MEMORY_BYTES) {
    throw invalidParameter(
      field,
      `'${String(value)}' is below 128Mi; a model server needs more (did you mean '${String(value)}Mi'?)`,
      value,
    );
  }
  return bytes;
}

function checkImage(value: unknown, field = 'image'): string {
  if (typeof value !== 'string' || value.length === 0 || value.length > 512 || !IMAGE_REF.test(value)) {
    throw invalidParameter(
      field,
      `'${String(value)}' is not an image reference such as registry.example.com/team/kiln:0.1.0`,
      value,
    );
  }
  return value;
}

/**
 * Checks packaging choices and fills in the defaults, so the Dockerfile and the manifests of one
 * call agree on name, port, image and user. Every problem is a 400 naming the field.
 *
 * @example
 * const options = resolvePackageOptions({ deployment: 'flights', models: ['models:/flights@champion'] });
 * options.port;  // 8080
 * options.image; // 'kiln:0.1.0'
 */
export function resolvePackageOptions(input: PackageInput): PackageOptions {
  let serve: ServeSource;
  let defaultName: string;
  const models: string[] = [];
  if (input.deployment !== undefined && input.model !== undefined) {
    throw invalidParameter('model', 'give a deployment or a model, not both');
  }
  if (input.model !== undefined) {
    const { name, ref } = checkServeModelRef(input.model, 'model');
    serve = { kind: 'model', model: ref };
    models.push(ref);
    defaultName = dnsNameOf(name);
  } else if (input.deployment !== undefined) {
    const deployment = checkDeploymentName(input.deployment);
    serve = { kind: 'deployment', deployment };
    defaultName = deployment;
  } else {
    throw invalidParameter('deployment', 'is required: the deployment to serve (or a model: models:/name@alias)');
  }
  (input.models ?? []).forEach((ref, i) => {
    const checked = checkServeModelRef(ref, `models[${i}]`).ref;
    if (!models.includes(checked)) models.push(checked);
  });

  const name = checkDnsLabel(input.name ?? defaultName, 'name');
  const port = checkInteger(
    input.port ?? SERVE_DEFAULT_PORT,
    'port',
    1024,
    65535,
    ' (the server runs as a non-root user, which cannot bind ports below 1024)',
  );
  const servicePort = checkInteger(input.servicePort ?? 80, 'servicePort', 1, 65535);

  if (input.replicas !== undefined) checkInteger(input.replicas, 'replicas', 1, 1000);
  if (input.minReplicas !== undefined) checkInteger(input.minReplicas, 'minReplicas', 1, 1000);
  if (input.maxReplicas !== undefined) checkInteger(input.maxReplicas, 'maxReplicas', 1, 1000);
  const minReplicas = input.minReplicas ?? input.replicas ?? 2;
  const replicas = input.replicas ?? minReplicas;
  const maxReplicas = input.maxReplicas ?? Math.max(10, minReplicas, replicas);
  if (maxReplicas < minReplicas) {
    throw invalidParameter('maxReplicas', `${maxReplicas} is below minReplicas ${minReplicas}`, maxReplicas);
  }
  if (replicas < minReplicas || replicas > maxReplicas) {
    throw invalidParameter(
      'replicas',
      `${replicas} is outside minReplicas..maxReplicas (${minReplicas}..${maxReplicas}); the autoscaler would move it at once`,
      replicas,
    );
  }
  const targetCpu = checkInteger(input.targetCpu ?? 70, 'targetCpu', 1, 100, ' (percent of the CPU request)');

  const cpu = input.cpu ?? '1';
  const cpuLimit = input.cpuLimit ?? cpu;
  const cpuRequested = cpuCores(cpu, 'cpu');
  if (cpuCores(cpuLimit, 'cpuLimit') < cpuRequested) {
    throw invalidParameter('cpuLimit', `${cpuLimit} is below the request ${cpu}`, cpuLimit);
  }
  const memory = input.memory ?? '1Gi';
  const memoryLimit = input.memoryLimit ?? memory;
  const memoryRequested = memoryBytes(memory, 'memory');
  if (memoryBytes(memoryLimit, 'memoryLimit') < memoryRequested) {
    throw invalidParameter('memoryLimit', `${memoryLimit} is below the request ${memory}`, memoryLimit);
  }

  const image = checkImage(input.image ?? DEFAULT_SERVE_IMAGE);
  const secretName = input.secretName ?? `${name}-kiln`;
  if (secretName.length > 253 || !/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/.test(secretName)) {
    throw invalidParameter('secretName', `'${secretName}' is not a valid Kubernetes Secret name`, secretName);
  }
  if (input.baseImageDigest !== undefined && !DIGEST.test(input.baseImageDigest)) {
    throw invalidParameter('baseImageDigest', 'must be sha256:<64 lower-case hex digits>', input.baseImageDigest);
  }

  return {
    name,
    serve,
    models,
    image,
    port,
    servicePort,
    replicas,
    minReplicas,
    maxReplicas,
    targetCpu,
    cpu,
    cpuLimit,
    memory,
    memoryLimit,
    secretName,
    ...(input.baseImageDigest === undefined ? {} : { baseImageDigest: input.baseImageDigest }),
  };
}

/**
 * The `kiln serve` arguments a packaged container runs with (after the `kiln` entrypoint).
 *
 * @example
 * serveArgs(resolvePackageOptions({ deployment: 'flights' })); // ['serve', 'flights', '--port', '8080']
 */
export function serveArgs(options: PackageOptions): string[] {
  const what = options.serve.kind === 'deployment' ? options.serve.deployment : options.serve.model;
  return ['serve', what, '--port', String(options.port)];
}

/**
 * The packaging input a stored deployment gives: its name and the models of its targets. Accepts
 * the deployments API's answer either bare or wrapped as `{ deployment: … }`; anything without a
 * name is a 400.
 *
 * @example
 * const body = await kiln.request('GET', '/api/v1/deployments/flights');
 * resolvePackageOptions({ ...packageInputFromDeployment(body), image: 'registry.example.com/kiln:0.1.0' });
 */
export function packageInputFromDeployment(body: unknown): PackageInput {
  const record = (value: unknown): Record<string, unknown> | undefined =>
    typeof value === 'object' && value !== null && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : undefined;
  const outer = record(body);
  const deployment = record(outer?.['deployment']) ?? outer;
  const name = deployment?.['name'];
  if (typeof name !== 'string') throw invalidParameter('deployment', 'the server answered without a deployment name');
  const targets = Array.isArray(deployment?.['targets']) ? (deployment['targets'] as unknown[]) : [];
  const models = targets
    .map((target) => record(target)?.['model'])
    .filter((model): model is string => typeof model === 'string');
  return { deployment: name, models };
}
