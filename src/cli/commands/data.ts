import { readFile, stat } from 'node:fs/promises';
import { basename, extname } from 'node:path';
import { type Command, InvalidArgumentError, Option } from 'commander';
import { parse as parseYaml } from 'yaml';
import { KilnError } from '../../core/index.js';
import type {
  ColumnProfile,
  Dataset,
  DatasetVersion,
  KilnClient,
  LineageNode,
  SplitSpec,
  Suite,
  SuiteChoice,
} from '../../sdk/index.js';
import { type Env, globalOptions } from '../context.js';
import { printJson, printLine, printTable } from '../output.js';
import { transferProgress } from '../progress.js';
import { clientFor, parsePositiveInt } from '../remote.js';
import {
  cell,
  failed,
  printNewVersion,
  printReport,
  SCHEMA_HEADERS,
  schemaRows,
  shortNumber,
  validationReportOf,
  versionFields,
} from './data-output.js';

const INGEST_FORMATS = ['csv', 'parquet', 'json', 'ndjson', 'arrow'] as const;
const DOWNLOAD_FORMATS = ['parquet', 'csv', 'ndjson'] as const;

/** Commander parser for a version number: a positive integer, or a usage error (exit 2). */
const versionArgument = parsePositiveInt;

/** Commander parser for a split fraction: a number from 0 to 1. */
function parseFraction(raw: string): number {
  const n = Number(raw);
  if (raw.trim() === '' || !Number.isFinite(n) || n < 0 || n > 1) {
    throw new InvalidArgumentError(`expected a fraction from 0 to 1, got '${raw}'`);
  }
  return n;
}

/** Commander parser for a seed or an offset: a non-negative integer. */
function parseNonNegativeInt(raw: string): number {
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError(`expected a non-negative integer, got '${raw}'`);
  return n;
}

async function ensureDataset(kiln: KilnClient, name: string, description: string | undefined): Promise<Dataset> {
  try {
    return await kiln.data.getDataset(name);
  } catch (error) {
    if (!(error instanceof KilnError) || error.code !== 'RESOURCE_DOES_NOT_EXIST') throw error;
  }
  try {
    return await kiln.data.createDataset(name, description === undefined ? {} : { description });
  } catch (error) {
    // Another client created it between our two calls.
    if (error instanceof KilnError && error.code === 'RESOURCE_ALREADY_EXISTS') return kiln.data.getDataset(name);
    throw error;
  }
}

async function readText(path: string): Promise<string> {
  return readFile(path, 'utf8').catch((error: NodeJS.ErrnoException) => {
    throw new KilnError('INVALID_PARAMETER_VALUE', `${path}: ${error.code ?? error.message}`, { path });
  });
}

/** The suite's name when its file is named `flights.yaml` and the document names none. */
function nameFromFile(path: string): string {
  return basename(path, extname(path));
}

/**
 * Saves a suite file as the next version of its suite: named by the document, or else by the
 * file. The YAML goes to the server as text, so its errors point at lines.
 */
async function saveSuiteFile(kiln: KilnClient, path: string): Promise<Suite> {
  const yaml = await readText(path);
  let named = true;
  try {
    const parsed: unknown = parseYaml(yaml);
    named = typeof parsed !== 'object' || parsed === null || 'name' in parsed;
  } catch {
    // Unparseable: the server names the line and column.
  }
  return kiln.data.saveSuite(named ? { yaml } : { yaml, name: nameFromFile(path) });
}

/** `--suite` of `validate`: a suite file (YAML or JSON) run inline, or else a saved suite's name. */
async function suiteChoice(suite: string, suiteVersion: number | undefined): Promise<SuiteChoice> {
  const info = await stat(suite).catch(() => undefined);
  if (info === undefined || !info.isFile()) {
    return suiteVersion === undefined ? { suite } : { suite, suiteVersion };
  }
  const text = await readText(suite);
  let definition: unknown;
  try {
    definition = parseYaml(text);
  } catch (error) {
    throw new KilnError('INVALID_PARAMETER_VALUE', `${suite}: ${(error as Error).message}`, { path: suite });
  }
  if (typeof definition === 'object' && definition !== null && !Array.isArray(definition) && !('name' in definition)) {
    definition = { name: nameFromFile(suite), ...definition };
  }
  return { definition };
}

function profileRow(name: string, p: ColumnProfile): string[] {
  const common = [name, p.kind, p.logical_type, String(p.count), String(p.nulls), String(p.distinct)];
  switch (p.kind) {
    case 'numeric':
      return [
        ...common,
        shortNumber(p.min),
        shortNumber(p.max),
        shortNumber(p.mean),
        shortNumber(p.std),
        shortNumber(p.quantiles?.p50 ?? null),
        '',
      ];
    case 'datetime':
      return [...common, p.min ?? '', p.max ?? '', '', '', '', ''];
    case 'categorical':
      return [...common, '', '', '', '', '', p.top.map((t) => `${t.value} (${t.count})`).join(', ')];
  }
}

/**
 * `kiln data …`: datasets on a Kiln server — ingest local files as content-addressed versions
 * (checked by an attached validation suite), inspect their schema, profile and rows, validate,
 * split, derive with SQL, scan for personal data, download, and follow lineage.
 *
 * @example
 * // kiln data ingest penguins.json --name penguins --suite penguins.yaml
 * // kiln data split penguins 1 --method stratified --column species --seed 7
 * // kiln data lineage penguins 1
 */
export function registerDataCommands(program: Command, env: Env): void {
  const data = program.command('data').description('datasets, their versions, validation and lineage on a Kiln server');

  data
    .command('ingest')
    .description('upload a local file as the next version of a dataset (created when missing)')
    .argument('<file>', 'a CSV, Parquet, JSON, NDJSON or Arrow file')
    .requiredOption('--name <dataset>', 'the dataset')
    .addOption(new Option('--format <format>', 'the file format (default: from the extension)').choices(INGEST_FORMATS))
    .option('--delimiter <char>', 'CSV delimiter (default: detected)')
    .option('--no-header', 'the CSV has no header line')
    .option('--suite <file>', "a suite YAML file, saved as the suite's next version and attached first")
    .option('--description <text>', 'description of the dataset, when this creates it')
    .action(
      async (
        file: string,
        options: {
          name: string;
          format?: (typeof INGEST_FORMATS)[number];
          delimiter?: string;
          header: boolean;
          suite?: string;
          description?: string;
        },
        command: Command,
      ) => {
        const kiln = clientFor(command, env);
        await ensureDataset(kiln, options.name, options.description);
        if (options.suite !== undefined) {
          const suite = await saveSuiteFile(kiln, options.suite);
          await kiln.data.attachSuite(options.name, suite.name, suite.version);
          if (!globalOptions(command).json) process.stderr.write(`Attached suite ${suite.name} v${suite.version}.\n`);
        }
        const csv = {
          ...(options.delimiter === undefined ? {} : { delimiter: options.delimiter }),
          ...(options.header ? {} : { header: false }),
        };
        let version: DatasetVersion;
        const progress = transferProgress(`uploading ${basename(file)}`);
        try {
          version = await kiln.data.uploadFile(options.name, file, {
            ...(options.format === undefined ? {} : { format: options.format }),
            ...(Object.keys(csv).length === 0 ? {} : { csv }),
            ...(globalOptions(command).json ? {} : { onProgress: progress.update }),
          });
        } catch (error) {
          progress.finish();
          const report = validationReportOf(error);
          if (report !== undefined) {
            if (globalOptions(command).json) printJson({ report });
            else printReport(report, failed);
          }
          throw error;
        }
        progress.finish();
        printNewVersion(command, version);
      },
    );

  data
    .command('list')
    .description('list datasets')
    .action(async (_options: unknown, command: Command) => {
      const kiln = clientFor(command, env);
      const found: Dataset[] = [];
      let pageToken: string | undefined;
      do {
        const page = await kiln.data.listDatasets({ maxResults: 1000, pageToken });
        found.push(...page.datasets);
        pageToken = page.next_page_token;
      } while (pageToken !== undefined);
      if (globalOptions(command).json) printJson({ datasets: found });
      else
        printTable(
          ['name', 'suite', 'updated', 'description'],
          found.map((d) => [d.name, suiteLabel(d), d.updated_at, d.description]),
        );
    });

  data
    .command('show')
    .description('a dataset with its versions, or one version with its schema')
    .argument('<name>', 'the dataset')
    // A positional: `--version` anywhere on the line is the program's own flag.
    .argument('[version]', 'show this version', versionArgument)
    .action(async (name: string, number: number | undefined, _options: unknown, command: Command) => {
      const kiln = clientFor(command, env);
      const json = globalOptions(command).json;
      if (number !== undefined) {
        const version = await kiln.data.getVersion(name, number);
        if (json) {
          printJson({ version });
          return;
        }
        printTable(['field', 'value'], versionFields(version));
        printLine('');
        printTable(SCHEMA_HEADERS, schemaRows(version.schema.columns));
        return;
      }
      const [dataset, versions] = await Promise.all([kiln.data.getDataset(name), kiln.data.listVersions(name)]);
      if (json) {
        printJson({ dataset, versions });
        return;
      }
      printTable(
        ['field', 'value'],
        [
          ['name', dataset.name],
          ['description', dataset.description],
          ['suite', suiteLabel(dataset)],
          ['created', dataset.created_at],
          ['updated', dataset.updated_at],
          ...Object.entries(dataset.tags).map(([key, value]) => [`tags.${key}`, value]),
        ],
      );
      printLine('');
      printTable(
        ['version', 'rows', 'columns', 'format', 'digest', 'created', 'source'],
        versions.map((v) => [
          String(v.version),
          String(v.row_count),
          String(v.column_count),
          v.format,
          v.digest.slice(0, 12),
          v.created_at,
          `${v.source_kind}: ${v.source}`,
        ]),
      );
    });

  data
    .command('profile')
    .description("a version's per-column statistics")
    .argument('<name>', 'the dataset')
    .argument('<version>', 'the version', versionArgument)
    .action(async (name: string, version: number, _options: unknown, command: Command) => {
      const profile = await clientFor(command, env).data.profile(name, version);
      if (globalOptions(command).json) {
        printJson({ profile });
        return;
      }
      printLine(`${profile.row_count} rows`);
      printTable(
        ['column', 'kind', 'type', 'count', 'nulls', 'distinct', 'min', 'max', 'mean', 'std', 'median', 'top'],
        Object.entries(profile.columns).map(([column, p]) => profileRow(column, p)),
      );
    });

  data
    .command('diff')
    .description('the schema change between two versions')
    .argument('<name>', 'the dataset')
    .argument('<from>', 'the version to compare from', versionArgument)
    .argument('<to>', 'the version to compare to', versionArgument)
    .action(async (name: string, from: number, to: number, _options: unknown, command: Command) => {
      const diff = await clientFor(command, env).data.diff(name, from, to);
      if (globalOptions(command).json) {
        printJson({ diff });
        return;
      }
      const rows = [
        ...diff.added.map((c) => ['added', c.name, '', c.logical_type]),
        ...diff.removed.map((c) => ['removed', c.name, c.logical_type, '']),
        ...diff.retyped.map((c) => ['retyped', c.name, c.from, c.to]),
        ...diff.nullability_changed.map((column) => ['nullability', column, '', '']),
      ];
      if (rows.length === 0) printLine(`No schema change from version ${from} to ${to}.`);
      else printTable(['change', 'column', 'from', 'to'], rows);
    });

  data
    .command('validate')
    .description('validate a version against a suite file or a saved suite; exits 1 when it fails')
    .argument('<name>', 'the dataset')
    .argument('<version>', 'the version', versionArgument)
    .requiredOption('--suite <suite>', 'a suite YAML / JSON file, or the name of a saved suite')
    .option('--suite-version <n>', 'a saved suite: this version rather than the latest', versionArgument)
    .action(
      async (name: string, version: number, options: { suite: string; suiteVersion?: number }, command: Command) => {
        const kiln = clientFor(command, env);
        const report = await kiln.data.validate(name, version, await suiteChoice(options.suite, options.suiteVersion));
        if (globalOptions(command).json) printJson({ report });
        else printReport(report, () => true);
        if (!report.success) {
          throw new KilnError(
            'VALIDATION_FAILED',
            `version ${version} of '${name}' failed ${report.errors} error-level expectation(s) of suite '${report.suite}'`,
            { dataset: name, version },
          );
        }
      },
    );

  data
    .command('preview')
    .description('rows of a version, in file order')
    .argument('<name>', 'the dataset')
    .argument('<version>', 'the version', versionArgument)
    .option('--offset <n>', 'rows to skip (default 0)', parseNonNegativeInt)
    .option('--limit <n>', 'rows to show, at most 1000 (default 20)', parsePositiveInt)
    .action(async (name: string, version: number, options: { offset?: number; limit?: number }, command: Command) => {
      const page = await clientFor(command, env).data.preview(name, version, {
        offset: options.offset ?? 0,
        limit: options.limit ?? 20,
      });
      if (globalOptions(command).json) {
        printJson(page);
        return;
      }
      printTable(
        page.columns.map((c) => c.name),
        page.rows.map((row) => page.columns.map((c) => cell(row[c.name]))),
      );
      const last = page.offset + page.rows.length;
      process.stderr.write(`rows ${page.rows.length === 0 ? 0 : page.offset + 1}–${last} of ${page.total}\n`);
    });

  data
    .command('download')
    .description('download a version: its Parquet, or CSV / NDJSON')
    .argument('<name>', 'the dataset')
    .argument('<version>', 'the version', versionArgument)
    .addOption(new Option('--format <format>', 'file format').choices(DOWNLOAD_FORMATS).default('parquet'))
    .option('-o, --output <file>', "write here; '-' for stdout (default: <name>-v<version>.<format>)")
    .action(
      async (
        name: string,
        version: number,
        options: { format: (typeof DOWNLOAD_FORMATS)[number]; output?: string },
        command: Command,
      ) => {
        const kiln = clientFor(command, env);
        if (options.output === '-') {
          await kiln.data.download(name, version, { format: options.format, to: process.stdout });
          return;
        }
        const file = options.output ?? `${name}-v${version}.${options.format}`;
        const bytes = await kiln.data.download(name, version, { format: options.format, to: file });
        if (globalOptions(command).json) printJson({ dataset: name, version, format: options.format, file, bytes });
        else printTable(['file', 'format', 'bytes'], [[file, options.format, String(bytes)]]);
      },
    );

  data
    .command('lineage')
    .description('where a version came from and what was made from it: versions, runs, models')
    .argument('<name>', 'the dataset')
    .argument('<version>', 'the version', versionArgument)
    .action(async (name: string, version: number, _options: unknown, command: Command) => {
      const lineage = await clientFor(command, env).data.lineage(name, version);
      if (globalOptions(command).json) {
        printJson({ lineage });
        return;
      }
      printTable(
        ['node', 'type', 'detail'],
        lineage.nodes.map((node) => [node.id, node.type, nodeDetail(node)]),
      );
      printLine('');
      if (lineage.edges.length === 0) printLine('No edges.');
      else
        printTable(
          ['from', 'role', 'to'],
          lineage.edges.map((e) => [e.from, e.role, e.to]),
        );
      if (lineage.truncated) process.stderr.write('kiln: the graph was cut short at its size limit\n');
    });

  data
    .command('split')
    .description('split a version into <name>.train, <name>.validation and <name>.test versions')
    .argument('<name>', 'the dataset')
    .argument('<version>', 'the version', versionArgument)
    .addOption(
      new Option('--method <method>', 'how to split').choices(['random', 'stratified', 'time']).makeOptionMandatory(),
    )
    .option('--train <fraction>', 'share of rows for training', parseFraction, 0.8)
    .option('--validation <fraction>', 'share of rows for validation', parseFraction, 0.1)
    .option('--test <fraction>', 'share of rows for testing', parseFraction, 0.1)
    .option('--seed <n>', 'random and stratified: the seed (same seed, same rows)', parseNonNegativeInt)
    .option('--column <column>', 'stratified: the label column; time: the time column')
    .action(
      async (
        name: string,
        version: number,
        options: {
          method: SplitSpec['method'];
          train: number;
          validation: number;
          test: number;
          seed?: number;
          column?: string;
        },
        command: Command,
      ) => {
        const spec: SplitSpec = {
          method: options.method,
          fractions: { train: options.train, validation: options.validation, test: options.test },
          ...(options.seed === undefined ? {} : { seed: options.seed }),
          ...(options.column === undefined ? {} : { column: options.column }),
        };
        const parts = await clientFor(command, env).data.split(name, version, spec);
        if (globalOptions(command).json) {
          printJson(parts);
          return;
        }
        printTable(
          ['part', 'dataset', 'version', 'rows', 'digest'],
          (['train', 'validation', 'test'] as const).flatMap((part) => {
            const made = parts[part];
            return made === undefined
              ? []
              : [[part, made.dataset_name, String(made.version), String(made.row_count), made.digest]];
          }),
        );
      },
    );

  data
    .command('derive')
    .description("record an SQL query over versions — dataset('name', version) — as the next version of <target>")
    .argument('<target>', 'the dataset the result becomes a version of (created when missing)')
    .requiredOption('--sql <query>', 'one SELECT, e.g. "select * from dataset(\'flights\', 3) where delay > 0"')
    .addOption(
      new Option('--pii <action>', 'mask, hash or drop the columns a PII scan flags').choices(['mask', 'hash', 'drop']),
    )
    .action(async (targetName: string, options: { sql: string; pii?: 'mask' | 'hash' | 'drop' }, command: Command) => {
      const version = await clientFor(command, env).data.derive(
        targetName,
        options.sql,
        options.pii === undefined ? {} : { pii: { action: options.pii } },
      );
      printNewVersion(command, version);
    });

  data
    .command('pii')
    .description('scan a version for personal data (e-mail, phone, cards, IBAN, IP, national ids)')
    .argument('<name>', 'the dataset')
    .argument('<version>', 'the version', versionArgument)
    .option('--threshold <share>', 'share of matching values from which a column is flagged', parseFraction)
    .action(async (name: string, version: number, options: { threshold?: number }, command: Command) => {
      const pii = await clientFor(command, env).data.scanPii(
        name,
        version,
        options.threshold === undefined ? {} : { threshold: options.threshold },
      );
      if (globalOptions(command).json) {
        printJson({ pii });
        return;
      }
      if (pii.columns.length === 0) {
        printLine(`No personal data found in ${pii.rows_scanned} rows.`);
        return;
      }
      printTable(
        ['column', 'kind', 'matches', 'non_null', 'share', 'flagged'],
        pii.columns.map((f) => [
          f.column,
          f.kind,
          String(f.matches),
          String(f.non_null),
          shortNumber(f.share),
          f.flagged ? 'yes' : 'no',
        ]),
      );
    });
}

function nodeDetail(node: LineageNode): string {
  switch (node.type) {
    case 'dataset_version':
      return `${node.source_kind}, ${node.row_count} rows, ${node.digest.slice(0, 12)}`;
    case 'run':
      return `${node.run_name} (${node.status}) in experiment ${node.experiment_id}`;
    case 'model_version':
      return [node.stage, ...node.aliases].filter((s) => s !== '').join(', ');
  }
}

function suiteLabel(dataset: Dataset): string {
  if (dataset.suite === undefined) return '';
  return dataset.suite.version === undefined ? dataset.suite.name : `${dataset.suite.name} v${dataset.suite.version}`;
}
