import { mkdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { type Command, InvalidArgumentError } from 'commander';
import { KilnError } from '../../core/index.js';
import type { PackageInput } from '../../serving/index.js';
import { type Env, globalOptions } from '../context.js';
import { EXIT_USAGE } from '../exit.js';
import { printJson, printLine } from '../output.js';
import { clientFor } from '../remote.js';

/** Flags both subcommands share. */
interface CommonFlags {
  model?: string;
  name?: string;
  out?: string;
  image?: string;
  port?: number;
}

interface DockerFlags extends CommonFlags {
  baseImageDigest?: string;
}

interface K8sFlags extends CommonFlags {
  replicas?: number;
  minReplicas?: number;
  maxReplicas?: number;
  targetCpu?: number;
  cpu?: string;
  cpuLimit?: string;
  memory?: string;
  memoryLimit?: string;
  secret?: string;
  kserve?: boolean;
}

/** Packaging fields → the flag a user types, so a bad value is reported as the flag it came from. */
const FLAG_OF: Readonly<Record<string, string>> = {
  deployment: '<deployment>',
  model: '--model',
  name: '--name',
  image: '--image',
  port: '--port',
  replicas: '--replicas',
  minReplicas: '--min-replicas',
  maxReplicas: '--max-replicas',
  targetCpu: '--target-cpu',
  cpu: '--cpu',
  cpuLimit: '--cpu-limit',
  memory: '--memory',
  memoryLimit: '--memory-limit',
  secretName: '--secret',
  baseImageDigest: '--base-image-digest',
};

/** Commander parser for a whole number; its range is checked with the other packaging rules. */
function parseWhole(raw: string): number {
  const n = Number(raw);
  if (raw.trim() === '' || !Number.isInteger(n))
    throw new InvalidArgumentError(`expected a whole number, got '${raw}'`);
  return n;
}

/** Packaging choices from flags; everything but what is served. */
type Choices = Omit<PackageInput, 'deployment' | 'model' | 'models'>;

/** `choices` without the flags that were not given, so defaults apply. */
function given(choices: Record<string, unknown>): Choices {
  return Object.fromEntries(Object.entries(choices).filter(([, value]) => value !== undefined)) as Choices;
}

/**
 * What to package: the deployment as the server stores it (read through the SDK's generic request,
 * so only its name and target models are relied on), or with `--model` a registry reference and no
 * server at all. The flags are checked first, so a bad one costs no round trip.
 */
/** The packaging functions, loaded on demand: every other command starts without the serving context. */
const packaging = () => import('../../serving/index.js');

async function packageInput(
  deployment: string | undefined,
  model: string | undefined,
  choices: Choices,
  command: Command,
  env: Env,
): Promise<PackageInput> {
  if (deployment !== undefined && model !== undefined) {
    command.error('give a deployment or --model, not both', { exitCode: EXIT_USAGE, code: 'kiln.usage' });
  }
  if (model !== undefined) return { ...choices, model };
  if (deployment === undefined) {
    command.error('missing the deployment to package (or --model models:/name@alias)', {
      exitCode: EXIT_USAGE,
      code: 'kiln.usage',
    });
  }
  const { packageInputFromDeployment, resolvePackageOptions } = await packaging();
  const local = { ...choices, deployment };
  withFlagErrors(command, local, () => resolvePackageOptions(local));
  const kiln = clientFor(command, env);
  const body = await kiln.request<unknown>('GET', `/api/v1/deployments/${encodeURIComponent(deployment)}`);
  return { ...choices, ...packageInputFromDeployment(body) };
}

/**
 * Runs `make`, turning a 400 about one packaging field into a usage error that names the flag
 * (exit 2), as other commands do for bad flags. A name derived from the deployment says how to
 * choose another.
 */
function withFlagErrors<T>(command: Command, input: PackageInput, make: () => T): T {
  try {
    return make();
  } catch (err) {
    const field = err instanceof KilnError ? err.details?.['field'] : undefined;
    const flag = typeof field === 'string' ? FLAG_OF[field] : undefined;
    if (!(err instanceof KilnError) || flag === undefined) throw err;
    const problem = err.message.replace(new RegExp(`^${field}: `), '');
    const hint = field === 'name' && input.name === undefined ? ' (give a name with --name)' : '';
    command.error(`${flag}: ${problem}${hint}`, { exitCode: EXIT_USAGE, code: 'kiln.invalidFlag' });
  }
}

async function writeFiles(dir: string, files: readonly [string, string][]): Promise<string[]> {
  await mkdir(dir, { recursive: true });
  const written: string[] = [];
  for (const [name, text] of files) {
    const path = join(dir, name);
    await writeFile(path, text);
    written.push(path);
  }
  return written;
}

function report(command: Command, result: { out: string; files: string[]; image: string }, next: string[]): void {
  if (globalOptions(command).json) {
    printJson(result);
    return;
  }
  for (const file of result.files) printLine(`wrote ${file}`);
  for (const line of next) printLine(line);
}

/**
 * `kiln package docker|k8s`: writes what it takes to run `kiln serve` for a deployment (or one
 * registry model with `--model`) elsewhere. `docker` writes a Dockerfile (multi-stage, pinned base,
 * non-root, health check) with its ignore files into `--out` (default `./<name>-docker`); `k8s`
 * writes deployment.yaml, service.yaml and hpa.yaml, or with `--kserve` a KServe
 * inference-service.yaml instead (KServe creates its own Deployment, Service and autoscaler from it,
 * so the two sets must not both be applied), into `--out` (default `./<name>-k8s`). Bad values exit
 * 2 naming the flag; an unknown deployment exits 1.
 *
 * @example
 * // kiln package docker flights --image registry.example.com/kiln-flights:1
 * // kiln package k8s flights --image registry.example.com/kiln-flights:1 --min-replicas 2 --max-replicas 8 --cpu 2
 * // kiln package k8s --model models:/flights@champion --kserve
 */
export function registerPackageCommands(program: Command, env: Env): void {
  const pack = program
    .command('package')
    .description('write a Dockerfile or Kubernetes manifests that run `kiln serve` for a deployment');

  pack
    .command('docker [deployment]')
    .description('write a Dockerfile and .dockerignore for a kiln serve image (build it from a Kiln source checkout)')
    .option('--model <ref>', 'serve this registry model instead of a deployment: models:/name/3 or models:/name@alias')
    .option('--name <name>', 'image title and object name, a DNS-1123 label (default: the deployment name)')
    .option('--out <dir>', 'directory to write into (default: ./<name>-docker)')
    .option('--image <image>', 'the image tag to build (default: kiln:<version>)')
    .option('--port <port>', 'port kiln serve listens on (default: 8080)', parseWhole)
    .option('--base-image-digest <sha256:…>', 'pin the Node base image to this digest as well as its tag')
    .action(async (deployment: string | undefined, flags: DockerFlags, command: Command) => {
      const choices = given({
        name: flags.name,
        image: flags.image,
        port: flags.port,
        baseImageDigest: flags.baseImageDigest,
      });
      const input = await packageInput(deployment, flags.model, choices, command, env);
      const { dockerfile, dockerignore, resolvePackageOptions, SERVE_SECRET_VARIABLES } = await packaging();
      const { options, text } = withFlagErrors(command, input, () => ({
        options: resolvePackageOptions(input),
        text: dockerfile(input),
      }));
      const out = resolve(flags.out ?? `${options.name}-docker`);
      const ignore = dockerignore();
      // `.dockerignore` is read from the context root; with `docker build -f <out>/Dockerfile`,
      // BuildKit reads `Dockerfile.dockerignore` beside the Dockerfile instead.
      const files = await writeFiles(out, [
        ['Dockerfile', text],
        ['Dockerfile.dockerignore', ignore],
        ['.dockerignore', ignore],
      ]);
      const secrets = SERVE_SECRET_VARIABLES.map((v) => `-e ${v}=…`).join(' ');
      report(command, { out, files, image: options.image }, [
        'build it from a Kiln source checkout:',
        `  docker build -f ${join(out, 'Dockerfile')} -t ${options.image} .`,
        `  docker run -p ${options.port}:${options.port} ${secrets} ${options.image}`,
      ]);
    });

  pack
    .command('k8s [deployment]')
    .description(
      'write Kubernetes manifests (Deployment, Service, HorizontalPodAutoscaler) or a KServe InferenceService',
    )
    .option('--model <ref>', 'serve this registry model instead of a deployment: models:/name/3 or models:/name@alias')
    .option('--name <name>', 'name of the Kubernetes objects, a DNS-1123 label (default: the deployment name)')
    .option('--out <dir>', 'directory to write into (default: ./<name>-k8s)')
    .option('--image <image>', 'container image (default: kiln:<version>)')
    .option('--port <port>', 'port kiln serve listens on (default: 8080)', parseWhole)
    .option('--replicas <n>', 'initial pods (default: --min-replicas, or 2)', parseWhole)
    .option('--min-replicas <n>', 'autoscaler floor (default: --replicas, or 2)', parseWhole)
    .option('--max-replicas <n>', 'autoscaler ceiling (default: 10)', parseWhole)
    .option('--target-cpu <percent>', 'average CPU utilisation the autoscaler aims for (default: 70)', parseWhole)
    .option('--cpu <quantity>', "CPU request, and limit unless --cpu-limit (default: '1')")
    .option('--cpu-limit <quantity>', 'CPU limit (default: the request)')
    .option('--memory <quantity>', "memory request, and limit unless --memory-limit (default: '1Gi')")
    .option('--memory-limit <quantity>', 'memory limit (default: the request)')
    .option('--secret <name>', 'Secret holding KILN_DATABASE_URL and KILN_ARTIFACTS_URL (default: <name>-kiln)')
    .option('--kserve', 'write a KServe InferenceService (inference-service.yaml) instead of the plain manifests')
    .action(async (deployment: string | undefined, flags: K8sFlags, command: Command) => {
      const choices = given({
        name: flags.name,
        image: flags.image,
        port: flags.port,
        replicas: flags.replicas,
        minReplicas: flags.minReplicas,
        maxReplicas: flags.maxReplicas,
        targetCpu: flags.targetCpu,
        cpu: flags.cpu,
        cpuLimit: flags.cpuLimit,
        memory: flags.memory,
        memoryLimit: flags.memoryLimit,
        secretName: flags.secret,
      });
      const input = await packageInput(deployment, flags.model, choices, command, env);
      const {
        kserveInferenceServiceObject,
        kubernetesObjects,
        manifestHeader,
        resolvePackageOptions,
        toYamlDocuments,
      } = await packaging();
      const { options, header, files } = withFlagErrors(command, input, () => {
        const header = manifestHeader(input);
        const yaml = (object: object) => toYamlDocuments([object], header);
        let files: [string, string][];
        if (flags.kserve === true) {
          files = [['inference-service.yaml', yaml(kserveInferenceServiceObject(input))]];
        } else {
          const objects = kubernetesObjects(input);
          files = [
            ['deployment.yaml', yaml(objects.deployment)],
            ['service.yaml', yaml(objects.service)],
            ['hpa.yaml', yaml(objects.hpa)],
          ];
        }
        return { options: resolvePackageOptions(input), header, files };
      });
      const out = resolve(flags.out ?? `${options.name}-k8s`);
      const written = await writeFiles(out, files);
      const secretLine = header.split('\n').find((line) => line.includes('kubectl create secret')) ?? '';
      report(command, { out, files: written, image: options.image }, [
        'create the Secret, then apply:',
        secretLine,
        `  kubectl apply -f ${out}`,
      ]);
    });
}
