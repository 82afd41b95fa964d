import { readFile } from 'node:fs/promises';
import { type Command, InvalidArgumentError, Option } from 'commander';
import { parse as parseYaml } from 'yaml';
import { KilnError } from '../../core/index.js';
import {
  StudiesApi,
  type Study,
  type StudyDistribution,
  type StudyParamValue,
  type StudySpecInput,
  type Trial,
} from '../../sdk/index.js';
import { type Env, globalOptions } from '../context.js';
import { printLine, printTable } from '../output.js';
import { clientFor, collect, parsePositiveInt, printWireJson } from '../remote.js';

interface TuneOptions {
  data?: string;
  target?: string;
  task?: StudySpecInput['task'];
  model?: StudySpecInput['model'];
  evalData?: string;
  feature?: string[];
  param?: string[];
  space?: string;
  paramSpace?: string[];
  trials?: number;
  parallel?: number;
  sampler?: 'tpe' | 'random' | 'grid';
  seed?: number;
  pruner?: 'median' | 'asha' | 'none';
  metric?: string;
  direction?: 'minimize' | 'maximize';
  timeout?: number;
  register?: string;
  experiment?: string;
  name?: string;
  wait: boolean;
}

/** A literal from the command line: a number, true / false / null, or else the text itself. */
function literal(text: string): StudyParamValue {
  if (text === 'true') return true;
  if (text === 'false') return false;
  if (text === 'null') return null;
  const n = Number(text);
  return text.trim() !== '' && Number.isFinite(n) ? n : text;
}

/**
 * One `--param-space` dimension: `name=int:3:10`, `name=float:0.01:0.3:log`, `name=float:0:1:step=0.1`
 * or `name=cat:gbtree,dart` (categorical choices, numbers and true/false/null parsed as such).
 *
 * @example
 * parseParamSpace('learning_rate=float:0.01:0.3:log'); // ['learning_rate', { type: 'float', low: 0.01, high: 0.3, log: true }]
 */
export function parseParamSpace(raw: string): [string, StudyDistribution] {
  const bad = (why: string) =>
    new InvalidArgumentError(
      `'${raw}': ${why}; expected name=int:LOW:HIGH[:log][:step=S], name=float:… or name=cat:A,B,…`,
    );
  const eq = raw.indexOf('=');
  if (eq <= 0) throw bad('no name=');
  const name = raw.slice(0, eq);
  const [kind = '', ...rest] = raw.slice(eq + 1).split(':');
  if (kind === 'cat' || kind === 'categorical') {
    const choices = rest
      .join(':')
      .split(',')
      .filter((c) => c !== '');
    if (choices.length === 0) throw bad('no choices');
    return [name, { type: 'categorical', choices: choices.map(literal) }];
  }
  if (kind !== 'int' && kind !== 'float') throw bad(`unknown type '${kind}'`);
  const [low, high, ...flags] = rest;
  const lowValue = Number(low);
  const highValue = Number(high);
  if (low === undefined || high === undefined || !Number.isFinite(lowValue) || !Number.isFinite(highValue)) {
    throw bad('LOW and HIGH must be numbers');
  }
  const distribution: StudyDistribution = { type: kind, low: lowValue, high: highValue };
  for (const flag of flags) {
    if (flag === 'log') distribution.log = true;
    else if (flag.startsWith('step=') && Number.isFinite(Number(flag.slice(5))))
      distribution.step = Number(flag.slice(5));
    else throw bad(`unknown flag '${flag}'`);
  }
  return [name, distribution];
}

/** `--param k=v`: a learner parameter every trial shares, kept as text (the server coerces it by type). */
function parseParam(raw: string): [string, string] {
  const eq = raw.indexOf('=');
  if (eq <= 0) throw new InvalidArgumentError(`'${raw}': expected name=value`);
  return [raw.slice(0, eq), raw.slice(eq + 1)];
}

async function readSpaceFile(path: string): Promise<Record<string, StudyDistribution>> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new KilnError('INVALID_PARAMETER_VALUE', `--space: cannot read ${path}: ${(err as Error).message}`, {
      field: 'space',
    });
  }
  const parsed: unknown = /\.json$/i.test(path) ? JSON.parse(text) : parseYaml(text);
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new KilnError(
      'INVALID_PARAMETER_VALUE',
      `--space: ${path} must hold a mapping of parameter names to distributions`,
      {
        field: 'space',
      },
    );
  }
  return parsed as Record<string, StudyDistribution>;
}

/** The study spec the flags describe (`--data`, `--target`, `--task` and `--model` checked as given). */
export async function specFromOptions(
  options: TuneOptions & Pick<StudySpecInput, 'data' | 'target' | 'task' | 'model'>,
): Promise<StudySpecInput> {
  const space: Record<string, StudyDistribution> =
    options.space === undefined ? {} : await readSpaceFile(options.space);
  for (const raw of options.paramSpace ?? []) {
    const [name, distribution] = parseParamSpace(raw);
    space[name] = distribution;
  }
  if (Object.keys(space).length === 0) {
    throw new KilnError('INVALID_PARAMETER_VALUE', 'space: give --space FILE or at least one --param-space', {
      field: 'space',
    });
  }
  const params = Object.fromEntries((options.param ?? []).map(parseParam));
  const sampler =
    options.sampler === undefined && options.seed === undefined
      ? undefined
      : { type: options.sampler ?? 'tpe', ...(options.seed === undefined ? {} : { seed: options.seed }) };
  return {
    data: options.data,
    target: options.target,
    task: options.task,
    model: options.model,
    space,
    ...(Object.keys(params).length === 0 ? {} : { params }),
    ...(options.evalData === undefined ? {} : { eval_data: options.evalData }),
    ...(options.feature === undefined ? {} : { features: options.feature }),
    ...(options.trials === undefined ? {} : { n_trials: options.trials }),
    ...(options.parallel === undefined ? {} : { parallelism: options.parallel }),
    ...(sampler === undefined ? {} : { sampler }),
    ...(options.pruner === undefined ? {} : { pruner: { type: options.pruner } }),
    ...(options.metric === undefined ? {} : { metric: options.metric }),
    ...(options.direction === undefined ? {} : { direction: options.direction }),
    ...(options.timeout === undefined ? {} : { timeout_seconds: options.timeout }),
    ...(options.register === undefined ? {} : { register_best: options.register }),
    ...(options.experiment === undefined ? {} : { experiment: options.experiment }),
    ...(options.name === undefined ? {} : { name: options.name }),
  };
}

function formatValue(value: number | undefined): string {
  return value === undefined ? '-' : String(Number(value.toPrecision(6)));
}

function formatParams(params: Record<string, StudyParamValue>): string {
  return Object.entries(params)
    .map(([key, value]) => `${key}=${typeof value === 'number' ? formatValue(value) : String(value)}`)
    .join(' ');
}

/** The progress line of one ended trial: its outcome and the best so far. */
export function trialLine(trial: Trial, study: Study): string {
  const best = study.best_trial;
  const last = trial.intermediate[trial.intermediate.length - 1];
  let outcome = `complete ${study.spec.metric}=${formatValue(trial.value)}`;
  if (trial.state === 'failed') outcome = `failed: ${trial.error ?? ''}`;
  else if (trial.state === 'pruned') {
    outcome =
      last === undefined ? 'pruned' : `pruned at step ${last[0]} (${study.spec.metric}=${formatValue(last[1])})`;
  }
  const bestText = best === undefined ? 'best -' : `best ${formatValue(best.value)} (trial ${best.number})`;
  return `trial ${trial.number} of ${study.n_trials}: ${outcome} | ${bestText} | ${formatParams(trial.params)}`;
}

/** The study and its best trials, best first, as tables for people. */
function printStudy(study: Study, trials: readonly Trial[], top: number): void {
  const counts = study.counts;
  printTable(
    ['field', 'value'],
    [
      ['id', study.id],
      ['name', study.name],
      ['state', study.state],
      ['metric', `${study.spec.metric} (${study.spec.direction})`],
      [
        'trials',
        `${counts.complete} complete, ${counts.pruned} pruned, ${counts.failed} failed, ${counts.running} running of ${study.n_trials}`,
      ],
      ['parent_run_id', study.parent_run_id],
      [
        'best',
        study.best_trial === undefined
          ? '-'
          : `${formatValue(study.best_trial.value)} (trial ${study.best_trial.number})`,
      ],
      ...(study.registered_model === undefined
        ? []
        : [['registered', `${study.registered_model.name} v${study.registered_model.version}`]]),
      ...(study.error === undefined ? [] : [['error', study.error]]),
    ],
  );
  const sign = study.spec.direction === 'maximize' ? -1 : 1;
  const ranked = trials
    .filter((t) => t.state === 'complete' && t.value !== undefined)
    .sort((a, b) => sign * ((a.value as number) - (b.value as number)) || a.number - b.number)
    .slice(0, top);
  if (ranked.length === 0) return;
  printLine('');
  printTable(
    ['trial', study.spec.metric, 'params', 'run_id'],
    ranked.map((t) => [String(t.number), formatValue(t.value), formatParams(t.params), t.run_id ?? '']),
  );
}

async function follow(studies: StudiesApi, command: Command, id: string): Promise<void> {
  const json = globalOptions(command).json;
  const study = await studies.wait(id, {
    onTrial: json ? undefined : (trial, current) => process.stderr.write(`${trialLine(trial, current)}\n`),
  });
  const trials = await studies.allTrials(id);
  if (json) printWireJson({ study, trials });
  else printStudy(study, trials, 5);
}

function parseInteger(raw: string): number {
  const n = Number(raw);
  if (!Number.isSafeInteger(n)) throw new InvalidArgumentError(`expected an integer, got '${raw}'`);
  return n;
}

/**
 * `kiln tune`: create a hyper-parameter study on the server and follow it, one line per trial
 * (with the best so far) on stderr and the best trials as a table (or `--json`) at the end;
 * `kiln tune show <id>`, `kiln tune resume <id>`, `kiln tune stop <id>`.
 *
 * @example
 * // kiln tune --data flights@1 --target delayed --task binary --model gbdt \
 * //   --param-space max_depth=int:3:10 --param-space learning_rate=float:0.01:0.3:log --trials 50 --parallel 2
 */
export function registerTuneCommands(program: Command, env: Env): void {
  const tune = program
    .command('tune')
    .description("tune a learner's hyper-parameters: a study of trials on the server's workers")
    .option('--data <dataset>', 'training data, name or name@version (required)')
    .option('--target <column>', 'the column to predict (required)')
    .addOption(
      new Option('--task <task>', 'learning task (required)').choices([
        'classification',
        'binary',
        'multiclass',
        'regression',
      ]),
    )
    .addOption(new Option('--model <learner>', 'learner (required)').choices(['gbdt', 'forest', 'logistic', 'linear']))
    .option(
      '--space <file>',
      'search space, YAML or JSON: name → {type, low, high, log?, step?} | {type: categorical, choices}',
    )
    .option(
      '--param-space <spec>',
      'one dimension: name=int:3:10, name=float:0.01:0.3:log, name=cat:a,b; repeat',
      collect,
    )
    .option('--param <name=value>', 'a learner parameter every trial shares; repeat', collect)
    .option('--eval-data <dataset>', 'holdout dataset scored by every trial')
    .option('--feature <column>', 'a feature column (default: all but the target); repeat', collect)
    .option('--trials <n>', 'number of trials (default 20)', parsePositiveInt)
    .option('--parallel <n>', 'trials in flight at once (default 1)', parsePositiveInt)
    .addOption(new Option('--sampler <sampler>', 'default tpe').choices(['tpe', 'random', 'grid']))
    .option('--seed <n>', 'sampler seed (default 0)', parseInteger)
    .addOption(new Option('--pruner <pruner>', 'default median').choices(['median', 'asha', 'none']))
    .option('--metric <metric>', 'final metric to optimise (default validation_log_loss / validation_rmse by task)')
    .addOption(new Option('--direction <direction>', 'default by metric').choices(['minimize', 'maximize']))
    .option('--timeout <seconds>', 'start no trial after this many seconds', parsePositiveInt)
    .option('--register <model>', 'register the best model under this name when the study completes')
    .option('--experiment <name>', 'experiment of the study and trial runs')
    .option('--name <name>', 'study name')
    .option('--no-wait', 'print the study id and return at once')
    .action(async (options: TuneOptions, command: Command) => {
      // Checked here, not with requiredOption: commander would demand them of `tune show` too.
      for (const flag of ['data', 'target', 'task', 'model'] as const) {
        if (options[flag] === undefined) command.error(`kiln: required option '--${flag}' not specified`);
      }
      const studies = new StudiesApi(clientFor(command, env));
      const study = await studies.create(await specFromOptions(options as Parameters<typeof specFromOptions>[0]));
      if (!options.wait) {
        if (globalOptions(command).json) printWireJson({ study });
        else printLine(study.id);
        return;
      }
      process.stderr.write(
        `study ${study.id}: ${study.n_trials} trials, ${study.parallelism} at a time, ${study.spec.metric} (${study.spec.direction})\n`,
      );
      await follow(studies, command, study.id);
    });

  tune
    .command('show <id>')
    .description("a study's state, counts and best trials")
    .option('--top <n>', 'best trials to list (default 10)', parsePositiveInt)
    .action(async (id: string, options: { top?: number }, command: Command) => {
      const studies = new StudiesApi(clientFor(command, env));
      const study = await studies.get(id);
      const trials = await studies.allTrials(id);
      if (globalOptions(command).json) printWireJson({ study, trials });
      else printStudy(study, trials, options.top ?? 10);
    });

  tune
    .command('resume <id>')
    .description('resume a crashed or stopped study and follow it')
    .option('--no-wait', 'return once it is resumed')
    .action(async (id: string, options: { wait: boolean }, command: Command) => {
      const studies = new StudiesApi(clientFor(command, env));
      const study = await studies.resume(id);
      if (!options.wait) {
        if (globalOptions(command).json) printWireJson({ study });
        else printLine(`${study.id} ${study.state}`);
        return;
      }
      await follow(studies, command, id);
    });

  tune
    .command('stop <id>')
    .description('stop a study: no new trials, trials in flight cancelled')
    .action(async (id: string, _options: unknown, command: Command) => {
      const study = await new StudiesApi(clientFor(command, env)).stop(id);
      if (globalOptions(command).json) printWireJson({ study });
      else printLine(`${study.id} ${study.state}`);
    });
}
