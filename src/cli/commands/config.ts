import type { Command } from 'commander';
import { configMarkdownTable, describeConfig, loadConfig } from '../../core/index.js';
import { type Env, globalOptions } from '../context.js';
import { printJson, printLine, printTable } from '../output.js';

/**
 * `kiln config`: the resolved value of every variable in core/config's registry, where it came
 * from and what it does, secrets masked. `--markdown` prints the registry as the README's table,
 * which is how that table is regenerated.
 *
 * @example
 * // kiln config --json | jq -r .KILN_DATABASE_URL
 * registerConfigCommand(program, process.env);
 */
export function registerConfigCommand(program: Command, env: Env): void {
  program
    .command('config')
    .description('print the resolved configuration (secrets masked)')
    .option('--markdown', 'print the configuration reference as a Markdown table (for the README)')
    .action((options: { markdown?: boolean }, command: Command) => {
      if (options.markdown === true) {
        printLine(configMarkdownTable());
        return;
      }
      const rows = describeConfig(loadConfig(env), env);
      if (globalOptions(command).json) {
        printJson(Object.fromEntries(rows.map((row) => [row.env, row.value])));
        return;
      }
      printTable(
        ['variable', 'value', 'source', 'doc'],
        rows.map((row) => [row.env, row.value, row.source, row.doc]),
      );
    });
}
