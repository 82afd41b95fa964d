import { type Command, InvalidArgumentError, Option } from 'commander';
import type {
  Deployment,
  DeploymentRole,
  DeploymentSettings,
  DeploymentSpec,
  DeploymentStatus,
  DeploymentTargetInput,
  DeploymentUpdate,
} from '../../sdk/index.js';
import { type Env, globalOptions } from '../context.js';
import { EXIT_USAGE } from '../exit.js';
import { printJson, printLine, printTable } from '../output.js';
import { clientFor, collect, parsePositiveInt } from '../remote.js';

/** The flags `deploy create` and `deploy update` share. */
interface TargetFlags {
  model?: string;
  canary?: string;
  canaryWeight?: number;
  shadow?: string[];
  shadowWeight?: number;
  variant?: DeploymentTargetInput[];
  strategy?: DeploymentSettings['strategy'];
  batchSize?: number;
  batchWaitMs?: number;
  batching?: boolean;
  maxQueue?: number;
  timeoutMs?: number;
  maxBatchRows?: number;
  extraColumns?: 'ignore' | 'reject';
  sampleRate?: number;
}

/** Commander parser for a percentage, 0–100. */
export function parsePercent(raw: string): number {
  const value = Number(raw);
  if (raw.trim() === '' || !Number.isFinite(value) || value < 0 || value > 100) {
    throw new InvalidArgumentError(`expected a percentage from 0 to 100, got '${raw}'`);
  }
  return value;
}

function parseShare(raw: string): number {
  const value = Number(raw);
  if (raw.trim() === '' || !(value >= 0 && value <= 1)) {
    throw new InvalidArgumentError(`expected a share from 0 to 1, got '${raw}'`);
  }
  return value;
}

function parseWaitMs(raw: string): number {
  const value = Number(raw);
  if (raw.trim() === '' || !(value >= 0 && value <= 1000)) {
    throw new InvalidArgumentError(`expected milliseconds from 0 to 1000, got '${raw}'`);
  }
  return value;
}

/**
 * `--variant models:/x/3=60`: an A/B variant and its share; the share may be left out
 * (`--variant models:/x/3`) for equal shares.
 *
 * @example
 * parseVariant('models:/flights/3=60'); // { model: 'models:/flights/3', role: 'variant', weight: 60 }
 */
export function parseVariant(raw: string): DeploymentTargetInput {
  const eq = raw.lastIndexOf('=');
  if (eq < 0) return { model: raw, role: 'variant' };
  const model = raw.slice(0, eq);
  if (model === '') throw new InvalidArgumentError(`'${raw}': expected <model>=<percent>, e.g. models:/flights/3=50`);
  return { model, role: 'variant', weight: parsePercent(raw.slice(eq + 1)) };
}

/** The targets the flags describe from scratch: `--model`, `--canary`, `--shadow`, `--variant`. */
function targetsFromFlags(flags: TargetFlags): DeploymentTargetInput[] {
  const targets: DeploymentTargetInput[] = [];
  if (flags.model !== undefined) targets.push({ model: flags.model, role: 'primary' });
  targets.push(...(flags.variant ?? []));
  if (flags.canary !== undefined) {
    targets.push({
      model: flags.canary,
      role: 'canary',
      ...(flags.canaryWeight === undefined ? {} : { weight: flags.canaryWeight }),
    });
  }
  for (const model of flags.shadow ?? []) {
    targets.push({
      model,
      role: 'shadow',
      ...(flags.shadowWeight === undefined ? {} : { weight: flags.shadowWeight }),
    });
  }
  return targets;
}

/** The settings the flags give (batching, limits, input policy, logging); absent flags are left out. */
function settingsFromFlags(flags: TargetFlags): DeploymentSettings {
  const settings: DeploymentSettings = {};
  if (flags.strategy !== undefined) settings.strategy = flags.strategy;
  if (flags.batching === false) settings.batching = null;
  else if (flags.batchSize !== undefined || flags.batchWaitMs !== undefined) {
    settings.batching = {
      ...(flags.batchSize === undefined ? {} : { max_batch_size: flags.batchSize }),
      ...(flags.batchWaitMs === undefined ? {} : { max_wait_ms: flags.batchWaitMs }),
    };
  }
  if (flags.maxQueue !== undefined) settings.max_queue = flags.maxQueue;
  if (flags.timeoutMs !== undefined) settings.timeout_ms = flags.timeoutMs;
  if (flags.extraColumns !== undefined || flags.maxBatchRows !== undefined) {
    settings.input = {
      ...(flags.extraColumns === undefined ? {} : { extra_columns: flags.extraColumns }),
      ...(flags.maxBatchRows === undefined ? {} : { max_batch_rows: flags.maxBatchRows }),
    };
  }
  if (flags.sampleRate !== undefined) settings.logging = { sample_rate: flags.sampleRate };
  return settings;
}

/**
 * The targets of `deploy update`: rebuilt from scratch when `--model` or `--variant` is given;
 * otherwise the current ones with the canary and shadows the flags change (`--canary-weight 25`
 * alone re-weights the current canary). Undefined when no target flag is given. Throws
 * InvalidArgumentError (a usage error) when a weight flag has nothing to weigh.
 */
export function updatedTargets(current: DeploymentSpec, flags: TargetFlags): DeploymentTargetInput[] | undefined {
  if (flags.model !== undefined || (flags.variant?.length ?? 0) > 0) return targetsFromFlags(flags);
  const touched =
    flags.canary !== undefined ||
    flags.canaryWeight !== undefined ||
    flags.shadow !== undefined ||
    flags.shadowWeight !== undefined;
  if (!touched) return undefined;
  const keep = (role: DeploymentRole) =>
    current.targets.filter((t) => t.role === role).map((t) => ({ model: t.model, role: t.role, weight: t.weight }));
  let canaries: DeploymentTargetInput[] = keep('canary');
  if (flags.canary !== undefined) {
    const weight = flags.canaryWeight ?? canaries[0]?.weight;
    canaries = [{ model: flags.canary, role: 'canary', ...(weight === undefined ? {} : { weight }) }];
  } else if (flags.canaryWeight !== undefined) {
    if (canaries.length === 0)
      throw new InvalidArgumentError(
        `--canary-weight: deployment '${current.name}' has no canary; add one with --canary`,
      );
    canaries = canaries.map((c) => ({ ...c, weight: flags.canaryWeight }));
  }
  let shadows: DeploymentTargetInput[] = keep('shadow');
  if (flags.shadow !== undefined) {
    shadows = flags.shadow.map((model) => {
      const weight = flags.shadowWeight ?? shadows.find((s) => s.model === model)?.weight;
      return { model, role: 'shadow' as const, ...(weight === undefined ? {} : { weight }) };
    });
  } else if (flags.shadowWeight !== undefined) {
    if (shadows.length === 0)
      throw new InvalidArgumentError(
        `--shadow-weight: deployment '${current.name}' has no shadow; add one with --shadow`,
      );
    shadows = shadows.map((s) => ({ ...s, weight: flags.shadowWeight }));
  }
  return [...keep('primary'), ...keep('variant'), ...canaries, ...shadows];
}

function percent(weight: number): string {
  return `${Number(weight.toFixed(2))}%`;
}

function describeTargets(spec: DeploymentSpec): string {
  return spec.targets.map((t) => `${t.role} ${t.model} ${percent(t.weight)}`).join(', ');
}

function ms(value: number): string {
  return String(Number(value.toFixed(2)));
}

/** The targets table of `deploy status` (and after every change): what serves, and how it is doing. */
function printStatus(status: DeploymentStatus): void {
  printTable(
    ['role', 'model', 'version', 'weight', 'ready', 'requests', 'errors', 'p50_ms', 'p99_ms'],
    status.targets.map((t) => [
      t.role,
      t.model,
      t.version === '' ? '-' : t.version,
      percent(t.weight),
      t.ready ? 'yes' : 'no',
      String(t.requests),
      String(t.errors),
      ms(t.latency_ms.p50),
      ms(t.latency_ms.p99),
    ]),
  );
}

function printDeployment(deployment: Deployment, verb: string): void {
  printLine(
    `${verb} deployment ${deployment.name}: revision ${deployment.revision}, ${deployment.strategy}, ` +
      `${deployment.status.ready ? 'ready' : 'not ready'}`,
  );
  printStatus(deployment.status);
}

function addTargetOptions(command: Command, forUpdate: boolean): Command {
  return command
    .option(
      '--model <ref>',
      `the primary model: models:/name/<version> or models:/name@<alias>${forUpdate ? ' (replaces every target)' : ''}`,
    )
    .option('--canary <ref>', 'a canary model, given --canary-weight percent of the traffic')
    .option('--canary-weight <percent>', 'share of traffic for the canary (default 10)', parsePercent)
    .option('--shadow <ref>', 'a shadow model: mirrored, compared, never answering; repeat for more', collect)
    .option('--shadow-weight <percent>', 'share of requests mirrored to the shadows (default 100)', parsePercent)
    .option(
      '--variant <ref=percent>',
      `an A/B variant and its share (the shares sum to 100; equal without them); repeat for each${forUpdate ? ' (replaces every target)' : ''}`,
      (raw: string, previous: DeploymentTargetInput[] = []) => [...previous, parseVariant(raw)],
    )
    .addOption(
      new Option('--strategy <strategy>', 'default: read from the targets').choices([
        'single',
        'canary',
        'ab',
        'shadow',
      ]),
    )
    .option('--batch-size <rows>', 'micro-batching: most rows per predict call (turns batching on)', parsePositiveInt)
    .option(
      '--batch-wait-ms <ms>',
      'micro-batching: longest a request waits for others (turns batching on)',
      parseWaitMs,
    )
    .option('--max-queue <requests>', 'requests queued or in flight before 503 (default 1000)', parsePositiveInt)
    .option('--timeout-ms <ms>', 'per-request limit, 504 beyond (default 10000)', parsePositiveInt)
    .option('--max-batch-rows <rows>', 'most rows one request may carry (default 10000)', parsePositiveInt)
    .addOption(
      new Option('--extra-columns <policy>', 'columns the model does not read (default ignore)').choices([
        'ignore',
        'reject',
      ]),
    )
    .option('--sample-rate <share>', 'share of requests logged, 0–1 (default 1)', parseShare);
}

/**
 * `kiln deploy create|list|status|update|promote|rollback|revisions|shadow-report|delete`:
 * deployments on a Kiln server. A deployment names an endpoint (`/serve/<name>/…`) and the
 * registered model versions behind it — a primary, a canary share, A/B variants or shadows — and
 * every change answers once the server has loaded and warmed the models.
 *
 * @example
 * // kiln deploy create flights --model models:/flights@champion --canary models:/flights/4 --canary-weight 10
 * // kiln deploy status flights
 * // kiln deploy promote flights
 * // kiln deploy rollback flights
 */
export function registerDeployCommands(program: Command, env: Env): void {
  const deploy = program
    .command('deploy')
    .description('deployments: serve registered models with canary, A/B and shadow');
  const api = (command: Command) => clientFor(command, env).deployments;

  addTargetOptions(
    deploy.command('create <name>').description('create a deployment; answers once its models are loaded and warmed'),
    false,
  ).action(async (name: string, flags: TargetFlags, command: Command) => {
    const targets = targetsFromFlags(flags);
    if (targets.length === 0) {
      command.error('give the models to serve: --model <ref> (with --canary / --shadow) or --variant <ref=percent> …', {
        exitCode: EXIT_USAGE,
        code: 'kiln.missingModel',
      });
    }
    const deployment = await api(command).create({ name, targets, ...settingsFromFlags(flags) });
    if (globalOptions(command).json) printJson({ deployment });
    else printDeployment(deployment, 'created');
  });

  deploy
    .command('list')
    .description("list the workspace's deployments")
    .action(async (_options: unknown, command: Command) => {
      const deployments = await api(command).listAll();
      if (globalOptions(command).json) {
        printJson({ deployments });
        return;
      }
      printTable(
        ['name', 'strategy', 'revision', 'ready', 'updated', 'targets'],
        deployments.map((d) => [
          d.name,
          d.strategy,
          String(d.revision),
          d.status.ready ? 'yes' : 'no',
          d.updated_at.replace(/\.\d{3}Z$/, 'Z'),
          describeTargets(d),
        ]),
      );
    });

  deploy
    .command('status <name>')
    .description('live status: per target the version serving, weight, requests, errors, p50 / p99 latency')
    .action(async (name: string, _options: unknown, command: Command) => {
      const client = api(command);
      const deployment = await client.get(name);
      if (globalOptions(command).json) {
        printJson({ status: deployment.status, revision: deployment.revision, strategy: deployment.strategy });
        return;
      }
      printDeployment(deployment, 'status of');
    });

  addTargetOptions(
    deploy
      .command('update <name>')
      .description('change targets, weights, batching or limits (a new revision)')
      .option('--no-batching', 'turn micro-batching off'),
    true,
  ).action(async (name: string, flags: TargetFlags, command: Command) => {
    const client = api(command);
    let targets: DeploymentTargetInput[] | undefined;
    try {
      const touchesTargets =
        flags.model !== undefined ||
        flags.variant !== undefined ||
        flags.canary !== undefined ||
        flags.canaryWeight !== undefined ||
        flags.shadow !== undefined ||
        flags.shadowWeight !== undefined;
      targets = touchesTargets ? updatedTargets(await client.get(name), flags) : undefined;
    } catch (err) {
      if (err instanceof InvalidArgumentError) {
        command.error(err.message, { exitCode: EXIT_USAGE, code: 'kiln.nothingToWeigh' });
      }
      throw err;
    }
    const changes: DeploymentUpdate = { ...settingsFromFlags(flags), ...(targets === undefined ? {} : { targets }) };
    if (Object.keys(changes).length === 0) {
      command.error('nothing to change: give targets, weights, batching or limits (see --help)', {
        exitCode: EXIT_USAGE,
        code: 'kiln.nothingToChange',
      });
    }
    const deployment = await client.update(name, changes);
    if (globalOptions(command).json) printJson({ deployment });
    else printDeployment(deployment, 'updated');
  });

  deploy
    .command('promote <name>')
    .description('make the canary, a shadow or an A/B variant the single primary')
    .option('--target <ref>', 'the target to promote (needed with several candidates)')
    .action(async (name: string, options: { target?: string }, command: Command) => {
      const deployment = await api(command).promote(name, options.target);
      if (globalOptions(command).json) printJson({ deployment });
      else printDeployment(deployment, 'promoted');
    });

  deploy
    .command('rollback <name>')
    .description('make an earlier revision current again (default the previous one)')
    .option('--revision <n>', 'the revision to return to', parsePositiveInt)
    .action(async (name: string, options: { revision?: number }, command: Command) => {
      const deployment = await api(command).rollback(name, options.revision);
      if (globalOptions(command).json) printJson({ deployment });
      else printDeployment(deployment, 'rolled back');
    });

  deploy
    .command('revisions <name>')
    .description("a deployment's revisions, newest first")
    .action(async (name: string, _options: unknown, command: Command) => {
      const client = api(command);
      const revisions = [];
      let pageToken: string | undefined;
      do {
        const page = await client.revisions(name, {
          maxResults: 1000,
          ...(pageToken === undefined ? {} : { pageToken }),
        });
        revisions.push(...page.revisions);
        pageToken = page.next_page_token;
      } while (pageToken !== undefined);
      if (globalOptions(command).json) {
        printJson({ revisions });
        return;
      }
      printTable(
        ['revision', 'reason', 'actor', 'created', 'strategy', 'targets'],
        revisions.map((r) => [
          String(r.revision),
          r.reason,
          r.actor,
          r.created_at.replace(/\.\d{3}Z$/, 'Z'),
          r.spec.strategy,
          describeTargets(r.spec),
        ]),
      );
    });

  deploy
    .command('shadow-report <name>')
    .description('how each shadow compared with the primary over the mirrored requests')
    .action(async (name: string, _options: unknown, command: Command) => {
      const report = await api(command).shadowReport(name);
      if (globalOptions(command).json) {
        printJson({ report });
        return;
      }
      const num = (v: number | undefined) => (v === undefined ? '' : String(Number(v.toPrecision(4))));
      printTable(
        [
          'shadow',
          'version',
          'mirrored',
          'errors',
          'agreement',
          'mean_abs_diff',
          'max_abs_diff',
          'p99_ms',
          'shadow_p99_ms',
        ],
        report.comparisons.map((c) => [
          c.shadow,
          c.shadow_version,
          String(c.mirrored),
          String(c.shadow_errors),
          num(c.label_agreement),
          num(c.mean_abs_diff),
          num(c.max_abs_diff),
          ms(c.primary_latency_ms.p99),
          ms(c.shadow_latency_ms.p99),
        ]),
      );
    });

  deploy
    .command('delete <name>')
    .description('stop serving a deployment and delete it with its history')
    .action(async (name: string, _options: unknown, command: Command) => {
      await api(command).delete(name);
      if (globalOptions(command).json) printJson({ deleted: name });
      else printLine(`Deleted deployment ${name}.`);
    });
}
