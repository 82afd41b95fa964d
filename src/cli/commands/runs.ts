import type { Command } from 'commander';
import type { KilnClient, Run } from '../../sdk/index.js';
import { type Env, globalOptions } from '../context.js';
import { printTable } from '../output.js';
import { clientFor, collect, formatMetric, formatTime, parsePositiveInt, printWireJson } from '../remote.js';

interface SearchOptions {
  experiment: string[];
  filter?: string;
  orderBy?: string[];
  maxResults: number;
}

const DEFAULT_MAX_RUNS = 100;

async function searchAll(kiln: KilnClient, options: SearchOptions): Promise<Run[]> {
  const runs: Run[] = [];
  let pageToken: string | undefined;
  do {
    const page = await kiln.tracking.searchRuns({
      experimentIds: options.experiment,
      filter: options.filter,
      orderBy: options.orderBy,
      maxResults: Math.min(1000, options.maxResults - runs.length),
      pageToken,
    });
    runs.push(...page.runs);
    pageToken = page.next_page_token;
  } while (pageToken !== undefined && runs.length < options.maxResults);
  return runs;
}

function printRuns(command: Command, runs: readonly Run[]): void {
  if (globalOptions(command).json) {
    printWireJson({ runs });
    return;
  }
  printTable(
    ['run_id', 'name', 'status', 'started', 'metrics'],
    runs.map((run) => [
      run.info.run_id,
      run.info.run_name,
      run.info.status,
      formatTime(run.info.start_time),
      run.data.metrics.map((m) => `${m.key}=${formatMetric(m)}`).join(' '),
    ]),
  );
}

function withSearchOptions(command: Command): Command {
  return command
    .requiredOption('--experiment <id>', 'experiment id; repeat for several', collect)
    .option('--max-results <n>', `stop after this many runs (default ${DEFAULT_MAX_RUNS})`, parsePositiveInt)
    .option('--order-by <order>', "e.g. 'metrics.auc DESC'; repeat for more keys", collect);
}

/** The runs side by side: one column per run, a row per attribute, param and latest metric. */
export function comparisonRows(runs: readonly Run[]): string[][] {
  const paramKeys = [...new Set(runs.flatMap((r) => r.data.params.map((p) => p.key)))].sort();
  const metricKeys = [...new Set(runs.flatMap((r) => r.data.metrics.map((m) => m.key)))].sort();
  const cell = (value: string | undefined) => value ?? '-';
  return [
    ['name', ...runs.map((r) => r.info.run_name)],
    ['status', ...runs.map((r) => r.info.status)],
    ...paramKeys.map((key) => [
      `params.${key}`,
      ...runs.map((r) => cell(r.data.params.find((p) => p.key === key)?.value)),
    ]),
    ...metricKeys.map((key) => {
      const values = runs.map((r) => r.data.metrics.find((m) => m.key === key));
      return [`metrics.${key}`, ...values.map((m) => cell(m === undefined ? undefined : formatMetric(m)))];
    }),
  ];
}

/**
 * `kiln runs list|search|show|compare`: find runs with MLflow's filter language, look at one, or
 * put several side by side (params and latest metrics).
 *
 * @example
 * // kiln runs search --experiment 1 --filter "metrics.auc > 0.9" --order-by "metrics.auc DESC"
 * // kiln runs compare 1f0c… 9a2b…
 */
export function registerRunCommands(program: Command, env: Env): void {
  const runs = program.command('runs').description('tracking runs on a Kiln server');

  withSearchOptions(runs.command('list').description("list an experiment's runs, newest first")).action(
    async (options: SearchOptions, command: Command) => {
      const found = await searchAll(clientFor(command, env), {
        ...options,
        maxResults: options.maxResults ?? DEFAULT_MAX_RUNS,
      });
      printRuns(command, found);
    },
  );

  withSearchOptions(runs.command('search').description('search runs with an MLflow filter'))
    .option('--filter <filter>', 'e.g. "metrics.auc > 0.9 AND params.depth = \'6\'"')
    .action(async (options: SearchOptions, command: Command) => {
      const found = await searchAll(clientFor(command, env), {
        ...options,
        maxResults: options.maxResults ?? DEFAULT_MAX_RUNS,
      });
      printRuns(command, found);
    });

  runs
    .command('show <run_id>')
    .description("a run's attributes, params, latest metrics and tags")
    .action(async (runId: string, _options: unknown, command: Command) => {
      const run = await clientFor(command, env).tracking.getRun(runId);
      if (globalOptions(command).json) {
        printWireJson({ run });
        return;
      }
      const { info, data } = run;
      printTable(
        ['field', 'value'],
        [
          ['run_id', info.run_id],
          ['name', info.run_name],
          ['experiment_id', info.experiment_id],
          ['status', info.status],
          ['started', formatTime(info.start_time)],
          ['ended', formatTime(info.end_time)],
          ['artifact_uri', info.artifact_uri],
          ...data.params.map((p) => [`params.${p.key}`, p.value]),
          ...data.metrics.map((m) => [`metrics.${m.key}`, `${formatMetric(m)} (step ${m.step})`]),
          ...data.tags.map((t) => [`tags.${t.key}`, t.value]),
        ],
      );
    });

  runs
    .command('compare <run_id...>')
    .description('params and latest metrics of several runs side by side')
    .action(async (runIds: string[], _options: unknown, command: Command) => {
      const kiln = clientFor(command, env);
      const found = await Promise.all(runIds.map((id) => kiln.tracking.getRun(id)));
      if (globalOptions(command).json) {
        printWireJson({
          runs: found.map((r) => ({
            run_id: r.info.run_id,
            run_name: r.info.run_name,
            status: r.info.status,
            params: Object.fromEntries(r.data.params.map((p) => [p.key, p.value])),
            metrics: Object.fromEntries(r.data.metrics.map((m) => [m.key, m.value])),
          })),
        });
        return;
      }
      printTable(['run_id', ...found.map((r) => r.info.run_id)], comparisonRows(found));
    });
}
