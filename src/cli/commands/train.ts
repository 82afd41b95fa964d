import { readFile } from 'node:fs/promises';
import { type Command, InvalidArgumentError, Option } from 'commander';
import { parse as parseYaml } from 'yaml';
import { KilnError } from '../../core/index.js';
import { outcomeOf, type TrainingJob, type TrainingJobRequest } from '../../sdk/index.js';
import { type Env, globalOptions } from '../context.js';
import { printLine, printTable } from '../output.js';
import { clientFor, collect, printWireJson } from '../remote.js';

interface TrainOptions {
  data: string;
  target: string;
  task: TrainingJobRequest['task'];
  model: TrainingJobRequest['model'];
  evalData?: string;
  feature?: string[];
  param?: string[];
  validationFraction?: number;
  experiment?: string;
  runName?: string;
  register?: string;
  preprocessing?: string;
  wait: boolean;
}

/** Where progress goes: stderr, so stdout stays the command's result. */
interface ProgressOut {
  isTTY?: boolean;
  write(text: string): unknown;
}

/**
 * `--param k=v`: a learner parameter kept as text; the server coerces it by the parameter's type
 * and names an unknown one with the list of valid ones.
 *
 * @example
 * parseParam('max_depth=6'); // ['max_depth', '6']
 */
export function parseParam(raw: string): [string, string] {
  const eq = raw.indexOf('=');
  if (eq <= 0) throw new InvalidArgumentError(`'${raw}': expected name=value, e.g. max_depth=6`);
  return [raw.slice(0, eq), raw.slice(eq + 1)];
}

function parseFraction(raw: string): number {
  const value = Number(raw);
  if (raw.trim() === '' || !(value >= 0 && value < 1))
    throw new InvalidArgumentError(`expected a number in [0, 1), got '${raw}'`);
  return value;
}

function shortMetrics(metrics: Record<string, number>): string {
  return Object.entries(metrics)
    .map(([key, value]) => `${key}=${Number(value.toPrecision(5))}`)
    .join(' ');
}

/**
 * A training job's progress as the CLI convention says: one bar redrawn in place on a terminal,
 * otherwise a plain line per state change and at every tenth of the rounds.
 *
 * @example
 * const progress = trainingProgress(process.stderr);
 * await kiln.training.wait(job.id, { onProgress: progress.update });
 */
export function trainingProgress(out: ProgressOut) {
  let lastState = '';
  let lastTenth = -1;
  let drawn = false;
  return {
    update(job: TrainingJob): void {
      const { progress } = job;
      if (out.isTTY === true) {
        const share = progress?.total ? Math.min(1, progress.step / progress.total) : 0;
        const width = 30;
        const filled = Math.round(share * width);
        const steps =
          progress === undefined ? job.state : `${progress.step}${progress.total ? `/${progress.total}` : ''}`;
        const line = `training [${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${steps} ${shortMetrics(progress?.metrics ?? {})}`;
        out.write(`\r${line.slice(0, 160)}\x1b[K`);
        drawn = true;
        return;
      }
      if (job.state !== lastState) {
        lastState = job.state;
        out.write(`job ${job.id}: ${job.state}\n`);
      }
      if (progress?.total) {
        const tenth = Math.floor((10 * progress.step) / progress.total);
        if (tenth > lastTenth) {
          lastTenth = tenth;
          out.write(`step ${progress.step}/${progress.total} ${shortMetrics(progress.metrics)}\n`);
        }
      }
    },
    finish(): void {
      if (drawn) out.write('\n');
    },
  };
}

/** A preprocessing spec file (JSON, or YAML for any other extension); the server checks its content. */
async function readPreprocessing(path: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new KilnError('INVALID_PARAMETER_VALUE', `--preprocessing: cannot read ${path}: ${(err as Error).message}`, {
      field: 'preprocessing',
    });
  }
  try {
    return /\.json$/i.test(path) ? JSON.parse(text) : parseYaml(text);
  } catch (err) {
    throw new KilnError('INVALID_PARAMETER_VALUE', `--preprocessing: ${path} is not valid: ${(err as Error).message}`, {
      field: 'preprocessing',
    });
  }
}

/** The request the flags describe. */
export async function requestFromOptions(options: TrainOptions): Promise<TrainingJobRequest> {
  const params = Object.fromEntries((options.param ?? []).map(parseParam));
  return {
    data: options.data,
    target: options.target,
    task: options.task,
    model: options.model,
    params,
    ...(options.evalData === undefined ? {} : { eval_data: options.evalData }),
    ...(options.feature === undefined ? {} : { features: options.feature }),
    ...(options.validationFraction === undefined ? {} : { validation_fraction: options.validationFraction }),
    ...(options.experiment === undefined ? {} : { experiment: options.experiment }),
    ...(options.runName === undefined ? {} : { run_name: options.runName }),
    ...(options.register === undefined ? {} : { register: options.register }),
    ...(options.preprocessing === undefined ? {} : { preprocessing: await readPreprocessing(options.preprocessing) }),
  };
}

/**
 * `kiln train`: submits a training job to the server, follows it (a bar on a terminal, plain lines
 * otherwise, on stderr) and prints the final metrics, or with `--json` the run id, model URI and
 * every final metric. A job that fails exits 1 with its error; `--no-wait` prints the queued job.
 *
 * @example
 * kiln train --data flights@3 --target delayed --task classification --model gbdt --param max_depth=6
 */
export function registerTrainCommand(program: Command, env: Env): void {
  program
    .command('train')
    .description('train a model on a dataset version in a tracked run, on the server queue')
    .requiredOption('--data <dataset>', "training data: 'name' (latest version) or 'name@version'")
    .requiredOption('--target <column>', 'the column to predict')
    .addOption(
      new Option('--task <task>', 'what to predict')
        .choices(['classification', 'binary', 'multiclass', 'regression'])
        .makeOptionMandatory(),
    )
    .addOption(
      new Option('--model <learner>', 'the learner')
        .choices(['gbdt', 'forest', 'logistic', 'linear'])
        .makeOptionMandatory(),
    )
    .option('--param <name=value>', 'a learner parameter, e.g. max_depth=6; repeat for more', collect)
    .option('--feature <column>', 'a feature column (default: every column but the target); repeat for more', collect)
    .option('--eval-data <dataset>', 'held-out data scored at the end (eval_* metrics)')
    .option(
      '--validation-fraction <share>',
      'holdout share of the training data (default 0.2 for gbdt without --eval-data)',
      parseFraction,
    )
    .option('--experiment <name>', "experiment of the run (default 'Default')")
    .option('--run-name <name>', 'name of the run')
    .option('--register <model>', 'register the trained model as a new version of this model')
    .option('--preprocessing <file>', 'preprocessing spec (JSON or YAML) replacing the learner default')
    .option('--no-wait', 'print the queued job and return')
    .action(async (options: TrainOptions, command: Command) => {
      const kiln = clientFor(command, env);
      const json = globalOptions(command).json;
      const job = await kiln.training.submit(await requestFromOptions(options));
      if (!options.wait) {
        if (json) printWireJson({ job });
        else printLine(`queued training job ${job.id}`);
        return;
      }
      const progress = trainingProgress(process.stderr);
      let finished: TrainingJob;
      try {
        finished = await kiln.training.wait(job.id, { onProgress: progress.update });
      } finally {
        progress.finish();
      }
      const outcome = outcomeOf(finished);
      if (json) {
        printWireJson({
          job_id: outcome.jobId,
          run_id: outcome.runId,
          model_uri: outcome.modelUri,
          metrics: outcome.metrics,
          ...(outcome.modelVersion === undefined ? {} : { model_version: outcome.modelVersion }),
        });
        return;
      }
      printLine(`run ${outcome.runId}  model ${outcome.modelUri}`);
      if (outcome.modelVersion !== undefined) {
        printLine(`registered ${outcome.modelVersion.name} version ${outcome.modelVersion.version}`);
      }
      printTable(
        ['metric', 'value'],
        Object.entries(outcome.metrics)
          .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
          .map(([key, value]) => [key, String(Number(value.toPrecision(6)))]),
      );
    });
}
