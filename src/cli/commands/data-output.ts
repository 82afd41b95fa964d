/** How `kiln data` prints versions, schemas and validation reports for people. */
import type { Command } from 'commander';
import { KilnError } from '../../core/index.js';
import type {
  DataColumn,
  DatasetVersion,
  DatasetVersionSummary,
  ExpectationResult,
  ValidationReport,
} from '../../sdk/index.js';
import { globalOptions } from '../context.js';
import { printJson, printLine, printTable } from '../output.js';

/** A value in a table cell: empty for null, JSON for anything that is not a plain scalar. */
export function cell(value: unknown): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') return String(value);
  return JSON.stringify(value);
}

export function shortNumber(value: number | string | null): string {
  if (value === null) return '';
  return typeof value === 'number' ? String(Number(value.toPrecision(6))) : value;
}

export function versionFields(v: DatasetVersionSummary): string[][] {
  return [
    ['dataset', v.dataset_name],
    ['version', String(v.version)],
    ['digest', v.digest],
    ['rows', String(v.row_count)],
    ['columns', String(v.column_count)],
    ['format', v.format],
    ['source', `${v.source_kind}: ${v.source}`],
    ...v.inputs.map((input) => [`input.${input.role}`, `${input.dataset}@${input.version}`]),
    ['created', `${v.created_at} by ${v.created_by}`],
  ];
}

export function schemaRows(columns: readonly DataColumn[]): string[][] {
  return columns.map((c) => [
    c.name,
    c.logical_type,
    c.physical_type,
    c.nullable ? 'yes' : 'no',
    (c.domain ?? []).join(','),
  ]);
}

export const SCHEMA_HEADERS = ['column', 'type', 'physical', 'nullable', 'domain'];

/** The expectation's target for a table: its column, its columns, or the SQL description. */
function target(result: ExpectationResult): string {
  return result.column ?? result.columns?.join(',') ?? '';
}

function resultRow(result: ExpectationResult): string[] {
  const unexpected =
    result.unexpected_count === undefined
      ? ''
      : `${result.unexpected_count} (${Number((result.unexpected_percent ?? 0).toFixed(2))}%)`;
  const detail = result.error ?? (result.unexpected_examples ?? []).map(cell).join(', ');
  return [
    result.level,
    result.type,
    target(result),
    result.success ? 'passed' : 'failed',
    unexpected,
    result.error === undefined ? cell(result.observed) : '',
    detail,
  ];
}

const RESULT_HEADERS = ['level', 'type', 'column', 'result', 'unexpected', 'observed', 'examples'];

function verdict(report: ValidationReport): string {
  const suite = report.suite_version === undefined ? report.suite : `${report.suite} v${report.suite_version}`;
  const outcome = report.success ? 'passed' : 'FAILED';
  return `suite ${suite} ${outcome} on ${report.row_count} rows: ${report.errors} error(s), ${report.warnings} warning(s)`;
}

/** A report for people: the verdict, then the expectations `which` selects. */
export function printReport(report: ValidationReport, which: (result: ExpectationResult) => boolean): void {
  printLine(verdict(report));
  const rows = report.results.filter(which).map(resultRow);
  if (rows.length > 0) printTable(RESULT_HEADERS, rows);
}

export const failed = (result: ExpectationResult) => !result.success;

export function validationReportOf(error: unknown): ValidationReport | undefined {
  if (!(error instanceof KilnError) || error.code !== 'VALIDATION_FAILED') return undefined;
  const report = error.details?.report;
  return typeof report === 'object' && report !== null ? (report as ValidationReport) : undefined;
}

/** A new version for people: its fields, and the warnings (or the passing verdict) of its suite. */
export function printNewVersion(command: Command, version: DatasetVersion): void {
  if (globalOptions(command).json) {
    printJson({ version });
    return;
  }
  printTable(['field', 'value'], versionFields(version));
  if (version.validation !== undefined) {
    printLine('');
    printReport(version.validation, failed);
  }
}
