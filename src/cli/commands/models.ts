import type { Command } from 'commander';
import type { ModelVersion, RegisteredModel } from '../../sdk/index.js';
import { type Env, globalOptions } from '../context.js';
import { printJson, printLine, printTable } from '../output.js';
import { clientFor, collect, formatTime } from '../remote.js';

function versionRows(versions: readonly ModelVersion[]): string[][] {
  return versions.map((v) => [
    String(v.version),
    v.status,
    v.aliases.join(','),
    v.run_id ?? '',
    formatTime(v.creation_timestamp),
    v.source,
  ]);
}

const VERSION_HEADERS = ['version', 'status', 'aliases', 'run_id', 'created', 'source'];

function aliasList(model: RegisteredModel): string {
  return model.aliases.map((a) => `${a.alias}=${a.version}`).join(',');
}

/**
 * `kiln models list|show|versions|alias set|alias delete`: the model registry. Aliases
 * (`champion`, `challenger`) are how deployments pick a version, so moving one is a release.
 *
 * @example
 * // kiln models alias set churn champion 3
 * // kiln models show churn
 */
export function registerModelCommands(program: Command, env: Env): void {
  const models = program.command('models').description('the model registry on a Kiln server');

  models
    .command('list')
    .description('list registered models')
    .option('--filter <filter>', 'MLflow filter, e.g. "name LIKE \'churn%\'"')
    .option('--order-by <order>', "e.g. 'name DESC'; repeat for more keys", collect)
    .action(async (options: { filter?: string; orderBy?: string[] }, command: Command) => {
      const kiln = clientFor(command, env);
      const found: RegisteredModel[] = [];
      let pageToken: string | undefined;
      do {
        const page = await kiln.registry.searchModels({ ...options, pageToken });
        found.push(...page.registered_models);
        pageToken = page.next_page_token;
      } while (pageToken !== undefined);
      if (globalOptions(command).json) printJson({ registered_models: found });
      else
        printTable(
          ['name', 'aliases', 'updated', 'description'],
          found.map((m) => [m.name, aliasList(m), formatTime(m.last_updated_timestamp), m.description]),
        );
    });

  models
    .command('show <name>')
    .description('a registered model with its aliases, tags and versions')
    .action(async (name: string, _options: unknown, command: Command) => {
      const kiln = clientFor(command, env);
      const model = await kiln.registry.getModel(name);
      const versions = await kiln.registry.listVersions(name, { orderBy: ['version_number DESC'], maxResults: 20 });
      if (globalOptions(command).json) {
        printJson({ registered_model: model, model_versions: versions.model_versions });
        return;
      }
      printTable(
        ['field', 'value'],
        [
          ['name', model.name],
          ['description', model.description],
          ['created', formatTime(model.creation_timestamp)],
          ['updated', formatTime(model.last_updated_timestamp)],
          ...model.aliases.map((a) => [`alias.${a.alias}`, `version ${a.version}`]),
          ...model.tags.map((t) => [`tags.${t.key}`, t.value]),
        ],
      );
      printLine('');
      printTable(VERSION_HEADERS, versionRows(versions.model_versions));
    });

  models
    .command('versions <name>')
    .description("list a model's versions, newest first")
    .action(async (name: string, _options: unknown, command: Command) => {
      const kiln = clientFor(command, env);
      const found: ModelVersion[] = [];
      let pageToken: string | undefined;
      do {
        const page = await kiln.registry.listVersions(name, { orderBy: ['version_number DESC'], pageToken });
        found.push(...page.model_versions);
        pageToken = page.next_page_token;
      } while (pageToken !== undefined);
      if (globalOptions(command).json) printJson({ model_versions: found });
      else printTable(VERSION_HEADERS, versionRows(found));
    });

  const alias = models.command('alias').description("set or delete a model's aliases");

  alias
    .command('set <name> <alias> <version>')
    .description('point an alias at a version (creating or moving it)')
    .action(async (name: string, aliasName: string, version: string, _options: unknown, command: Command) => {
      const kiln = clientFor(command, env);
      await kiln.registry.setAlias(name, aliasName, version);
      const target = await kiln.registry.getByAlias(name, aliasName);
      if (globalOptions(command).json) printJson({ name, alias: aliasName, version: target.version });
      else printLine(`${name}@${aliasName} → version ${target.version}`);
    });

  alias
    .command('delete <name> <alias>')
    .description('delete an alias')
    .action(async (name: string, aliasName: string, _options: unknown, command: Command) => {
      await clientFor(command, env).registry.deleteAlias(name, aliasName);
      if (globalOptions(command).json) printJson({ name, deleted: aliasName });
      else printLine(`Deleted ${name}@${aliasName}.`);
    });
}
