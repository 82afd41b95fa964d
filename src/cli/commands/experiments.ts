import type { Command } from 'commander';
import type { Experiment } from '../../sdk/index.js';
import type { Env } from '../context.js';
import { globalOptions } from '../context.js';
import { printJson, printLine, printTable } from '../output.js';
import { clientFor, collect, formatTime, parsePositiveInt } from '../remote.js';

function experimentRows(experiments: readonly Experiment[]): string[][] {
  return experiments.map((e) => [e.experiment_id, e.name, e.lifecycle_stage, formatTime(e.creation_time)]);
}

const HEADERS = ['id', 'name', 'stage', 'created'];

/**
 * `kiln experiments list|create|delete`: the tracking server's experiments. `list` follows every
 * page unless `--max-results` caps it.
 *
 * @example
 * // kiln experiments create churn
 * // kiln experiments list --filter "name LIKE 'churn%'" --json
 * // kiln experiments delete 3
 */
export function registerExperimentCommands(program: Command, env: Env): void {
  const experiments = program.command('experiments').description('tracking experiments on a Kiln server');

  experiments
    .command('list')
    .description('list experiments')
    .option('--filter <filter>', 'MLflow filter, e.g. "name LIKE \'churn%\'"')
    .option('--order-by <order>', "e.g. 'name DESC'; repeat for more keys", collect)
    .option('--all', 'include deleted experiments')
    .option('--max-results <n>', 'stop after this many', parsePositiveInt)
    .action(
      async (
        options: { filter?: string; orderBy?: string[]; all?: boolean; maxResults?: number },
        command: Command,
      ) => {
        const kiln = clientFor(command, env);
        const found: Experiment[] = [];
        let pageToken: string | undefined;
        do {
          const page = await kiln.tracking.searchExperiments({
            filter: options.filter,
            orderBy: options.orderBy,
            viewType: options.all ? 'ALL' : 'ACTIVE_ONLY',
            maxResults:
              options.maxResults === undefined ? undefined : Math.min(1000, options.maxResults - found.length),
            pageToken,
          });
          found.push(...page.experiments);
          pageToken = page.next_page_token;
        } while (pageToken !== undefined && (options.maxResults === undefined || found.length < options.maxResults));
        if (globalOptions(command).json) printJson({ experiments: found });
        else printTable(HEADERS, experimentRows(found));
      },
    );

  experiments
    .command('create <name>')
    .description('create an experiment and print its id')
    .action(async (name: string, _options: unknown, command: Command) => {
      const experiment = await clientFor(command, env).tracking.createExperiment(name);
      if (globalOptions(command).json) printJson({ experiment });
      else printTable(HEADERS, experimentRows([experiment]));
    });

  experiments
    .command('delete <id>')
    .description('soft-delete an experiment and its runs')
    .action(async (id: string, _options: unknown, command: Command) => {
      await clientFor(command, env).tracking.deleteExperiment(id);
      if (globalOptions(command).json) printJson({ deleted: id });
      else printLine(`Deleted experiment ${id}.`);
    });
}
