/** The datasets API's wire shapes: TypeBox schemas for validation and OpenAPI, and snake_case converters. */
import { Type } from '@fastify/type-provider-typebox';
import { DATASET_NAME_PATTERN } from './checks.js';
import type {
  ColumnProfile,
  ColumnSchema,
  Dataset,
  DatasetProfile,
  DatasetVersion,
  SchemaDiff,
  SuiteVersion,
} from './model.js';
import { MAX_PREVIEW_ROWS } from './reads.js';
import { DEFAULT_DATASET_PAGE, MAX_DATASET_PAGE } from './service.js';

export const UpdateBody = Type.Object(
  {
    description: Type.Optional(Type.String({ maxLength: 4096 })),
    tags: Type.Optional(Type.Record(Type.String(), Type.String(), { description: 'Replaces every tag.' })),
  },
  { additionalProperties: false },
);

export const SuiteAttachmentSchema = Type.Object(
  {
    name: Type.String({ minLength: 1 }),
    version: Type.Optional(
      Type.Integer({ minimum: 1, description: 'Pinned version; the latest at each ingest when left out.' }),
    ),
  },
  { additionalProperties: false },
);

export const DatasetSchema = Type.Object({
  name: Type.String(),
  description: Type.String(),
  tags: Type.Record(Type.String(), Type.String()),
  suite: Type.Optional(SuiteAttachmentSchema),
  created_at: Type.String({ format: 'date-time' }),
  updated_at: Type.String({ format: 'date-time' }),
});

export const DatasetEnvelope = Type.Object({ dataset: DatasetSchema });

export const LogicalTypeSchema = Type.Union([
  Type.Literal('integer'),
  Type.Literal('float'),
  Type.Literal('boolean'),
  Type.Literal('string'),
  Type.Literal('categorical'),
  Type.Literal('datetime'),
]);

export const FormatSchema = Type.Union(
  [Type.Literal('csv'), Type.Literal('parquet'), Type.Literal('json'), Type.Literal('ndjson'), Type.Literal('arrow')],
  { description: 'One of csv, parquet, json, ndjson, arrow; inferred from the extension when left out.' },
);

export const ColumnWireSchema = Type.Object({
  name: Type.String(),
  logical_type: LogicalTypeSchema,
  physical_type: Type.String({ description: "DuckDB's own type name, e.g. BIGINT." }),
  nullable: Type.Boolean(),
  domain: Type.Optional(Type.Array(Type.String(), { description: 'Categorical columns only: the distinct values.' })),
});

export const versionFields = {
  dataset_name: Type.String(),
  version: Type.Integer({ minimum: 1 }),
  digest: Type.String({ description: 'SHA-256 of the full source content, hex.' }),
  source_kind: Type.String(),
  source: Type.String(),
  format: FormatSchema,
  row_count: Type.Integer(),
  column_count: Type.Integer(),
  inputs: Type.Array(Type.Object({ dataset: Type.String(), version: Type.Integer(), role: Type.String() }), {
    description: 'The versions this one was derived from (lineage); empty for ingested files.',
  }),
  created_at: Type.String({ format: 'date-time' }),
  created_by: Type.String(),
};

export const VersionSummarySchema = Type.Object(versionFields);
/** A validation report is a stored document whose per-expectation `observed` values vary by type. */
export const ReportSchema = Type.Unknown({ description: 'A validation report: success, errors, warnings, results.' });

export const VersionSchema = Type.Object({
  ...versionFields,
  schema: Type.Object({ columns: Type.Array(ColumnWireSchema) }),
  validation: Type.Optional(ReportSchema),
});
export const VersionEnvelope = Type.Object({ version: VersionSchema });

export const NameParams = Type.Object({ name: Type.String({ description: 'The dataset name.' }) });
export const VersionParams = Type.Object({
  name: Type.String({ description: 'The dataset name.' }),
  version: Type.Integer({ minimum: 1, description: 'The version number, from 1.' }),
});

export const ListQuery = Type.Object({
  max_results: Type.Optional(
    Type.Integer({
      minimum: 1,
      maximum: MAX_DATASET_PAGE,
      description: `Page size; default ${DEFAULT_DATASET_PAGE}.`,
    }),
  ),
  page_token: Type.Optional(Type.String({ description: 'The next_page_token of the previous page.' })),
});

export const CreateBody = Type.Object(
  {
    name: Type.String({ pattern: DATASET_NAME_PATTERN.source, description: 'Letters, digits, . _ -; 1 to 128.' }),
    description: Type.Optional(Type.String({ maxLength: 4096 })),
    tags: Type.Optional(Type.Record(Type.String(), Type.String())),
  },
  { additionalProperties: false },
);

export const IngestBody = Type.Object(
  {
    path: Type.String({ minLength: 1, description: "A file on the server's file system." }),
    format: Type.Optional(FormatSchema),
    csv: Type.Optional(
      Type.Object(
        {
          delimiter: Type.Optional(Type.String({ minLength: 1 })),
          header: Type.Optional(Type.Boolean()),
          quote: Type.Optional(Type.String({ minLength: 1 })),
        },
        { additionalProperties: false, description: 'CSV overrides; anything left out is detected.' },
      ),
    ),
  },
  { additionalProperties: false },
);

export const DiffQuery = Type.Object({
  from: Type.Integer({ minimum: 1, description: 'The version to compare from.' }),
  to: Type.Integer({ minimum: 1, description: 'The version to compare to.' }),
});

export const DiffSchema = Type.Object({
  added: Type.Array(ColumnWireSchema),
  removed: Type.Array(ColumnWireSchema),
  retyped: Type.Array(Type.Object({ name: Type.String(), from: LogicalTypeSchema, to: LogicalTypeSchema })),
  nullability_changed: Type.Array(Type.String()),
});

export const NullableNumber = Type.Union([Type.Number(), Type.Null()]);
export const profileBase = {
  logical_type: LogicalTypeSchema,
  count: Type.Integer({ description: 'Non-null values.' }),
  nulls: Type.Integer(),
  distinct: Type.Integer({ description: 'An estimate (HyperLogLog).' }),
};

export const ColumnProfileSchema = Type.Union([
  Type.Object({
    kind: Type.Literal('numeric'),
    ...profileBase,
    min: Type.Union([Type.Number(), Type.String(), Type.Null()], { description: 'A decimal string past 2^53.' }),
    max: Type.Union([Type.Number(), Type.String(), Type.Null()]),
    mean: NullableNumber,
    std: NullableNumber,
    quantiles: Type.Union([
      Type.Object({
        p01: NullableNumber,
        p05: NullableNumber,
        p25: NullableNumber,
        p50: NullableNumber,
        p75: NullableNumber,
        p95: NullableNumber,
        p99: NullableNumber,
      }),
      Type.Null(),
    ]),
    histogram: Type.Union([
      Type.Object({ min: Type.Number(), max: Type.Number(), width: Type.Number(), counts: Type.Array(Type.Integer()) }),
      Type.Null(),
    ]),
  }),
  Type.Object({
    kind: Type.Literal('categorical'),
    ...profileBase,
    top: Type.Array(Type.Object({ value: Type.String(), count: Type.Integer() })),
    other: Type.Integer({ description: 'Non-null values outside top.' }),
  }),
  Type.Object({
    kind: Type.Literal('datetime'),
    ...profileBase,
    min: Type.Union([Type.String(), Type.Null()]),
    max: Type.Union([Type.String(), Type.Null()]),
  }),
]);

export const ProfileSchema = Type.Object({
  row_count: Type.Integer(),
  columns: Type.Record(Type.String(), ColumnProfileSchema, { description: 'Keyed by column name.' }),
});

/** A dataset as it travels over HTTP: snake_case, like the rest of the REST API. */
export interface DatasetWire {
  name: string;
  description: string;
  tags: Record<string, string>;
  suite?: { name: string; version?: number };
  created_at: string;
  updated_at: string;
}

export function datasetToWire(dataset: Dataset): DatasetWire {
  return {
    name: dataset.name,
    description: dataset.description,
    tags: dataset.tags,
    ...(dataset.suite === undefined ? {} : { suite: dataset.suite }),
    created_at: dataset.createdAt,
    updated_at: dataset.updatedAt,
  };
}

export function columnToWire(column: ColumnSchema) {
  return {
    name: column.name,
    logical_type: column.logicalType,
    physical_type: column.physicalType,
    nullable: column.nullable,
    ...(column.domain === undefined ? {} : { domain: column.domain }),
  };
}

export function versionSummaryToWire(version: DatasetVersion) {
  return {
    dataset_name: version.datasetName,
    version: version.version,
    digest: version.digest,
    source_kind: version.sourceKind,
    source: version.source,
    format: version.format,
    row_count: version.rowCount,
    column_count: version.columnCount,
    inputs: version.inputs,
    created_at: version.createdAt,
    created_by: version.createdBy,
  };
}

export function versionToWire(version: DatasetVersion) {
  return {
    ...versionSummaryToWire(version),
    schema: { columns: version.schema.columns.map(columnToWire) },
    ...(version.validation === undefined ? {} : { validation: version.validation }),
  };
}

export function schemaToWire(version: DatasetVersion) {
  return { columns: version.schema.columns.map(columnToWire) };
}

const csvQuery = {
  delimiter: Type.Optional(Type.String({ minLength: 1, maxLength: 2, description: 'CSV delimiter, one character.' })),
  header: Type.Optional(Type.Boolean({ description: 'Whether the first CSV line names the columns.' })),
  quote: Type.Optional(Type.String({ minLength: 1, maxLength: 1, description: 'CSV quote character.' })),
};

export const UploadQuery = Type.Object(
  {
    format: Type.Optional(FormatSchema),
    filename: Type.Optional(
      Type.String({ minLength: 1, maxLength: 1024, description: 'For raw bodies: the name recorded as the source.' }),
    ),
    ...csvQuery,
  },
  { additionalProperties: false },
);

export const PiiPolicySchema = Type.Object(
  {
    action: Type.Union([Type.Literal('mask'), Type.Literal('hash'), Type.Literal('drop')]),
    columns: Type.Optional(
      Type.Array(Type.String(), { description: 'Columns to treat; the flagged ones when left out.' }),
    ),
    threshold: Type.Optional(Type.Number({ minimum: 0, maximum: 1 })),
  },
  { additionalProperties: false },
);

export const DeriveBody = Type.Object(
  {
    sql: Type.String({ minLength: 1, description: "One SELECT over dataset('name', version) references." }),
    pii: Type.Optional(PiiPolicySchema),
  },
  { additionalProperties: false },
);

export const SplitBody = Type.Object(
  {
    method: Type.Union([Type.Literal('random'), Type.Literal('stratified'), Type.Literal('time')]),
    fractions: Type.Object(
      { train: Type.Number(), validation: Type.Number(), test: Type.Number() },
      { additionalProperties: false },
    ),
    seed: Type.Optional(Type.Integer()),
    column: Type.Optional(Type.String({ description: 'Stratified: the label; time: the time column.' })),
  },
  { additionalProperties: false },
);

export const RowsQuery = Type.Object(
  {
    offset: Type.Optional(Type.Integer({ minimum: 0, description: 'Rows to skip; default 0.' })),
    limit: Type.Optional(
      Type.Integer({ minimum: 1, maximum: MAX_PREVIEW_ROWS, description: 'Rows per page; default 100.' }),
    ),
  },
  { additionalProperties: false },
);

export const RowsPageSchema = Type.Object({
  columns: Type.Array(Type.Object({ name: Type.String(), type: Type.String() })),
  rows: Type.Array(Type.Record(Type.String(), Type.Unknown())),
  offset: Type.Integer(),
  total: Type.Integer(),
  next_offset: Type.Optional(Type.Integer()),
});

export const DownloadQuery = Type.Object(
  {
    format: Type.Optional(
      Type.Union([Type.Literal('parquet'), Type.Literal('csv'), Type.Literal('ndjson')], {
        description: 'parquet (the stored file, default), csv or ndjson.',
      }),
    ),
  },
  { additionalProperties: false },
);

export const ValidateBody = Type.Object(
  {
    suite: Type.Optional(Type.String({ description: 'A saved suite by name.' })),
    suite_version: Type.Optional(Type.Integer({ minimum: 1 })),
    definition: Type.Optional(Type.Unknown({ description: 'An inline suite document instead of a saved one.' })),
  },
  { additionalProperties: false },
);

export const PiiQuery = Type.Object(
  {
    threshold: Type.Optional(
      Type.Number({ minimum: 0, maximum: 1, description: 'Share from which a column is flagged.' }),
    ),
  },
  { additionalProperties: false },
);

export const SuiteVersionSchema = Type.Object({
  name: Type.String(),
  version: Type.Integer(),
  description: Type.String(),
  definition: Type.Unknown({ description: 'The suite document: name, description, expectations.' }),
  created_at: Type.String({ format: 'date-time' }),
  created_by: Type.String(),
});

export function suiteToWire(suite: SuiteVersion) {
  return {
    name: suite.name,
    version: suite.version,
    description: suite.description,
    definition: suite.definition,
    created_at: suite.createdAt,
    created_by: suite.createdBy,
  };
}

export const SaveSuiteBody = Type.Object(
  {
    name: Type.Optional(Type.String({ description: 'Overrides or supplies the document name.' })),
    definition: Type.Optional(Type.Unknown({ description: 'The suite document as JSON.' })),
    yaml: Type.Optional(Type.String({ description: 'The suite document as YAML text.' })),
  },
  { additionalProperties: false },
);

export function diffToWire(diff: SchemaDiff) {
  return {
    added: diff.added.map(columnToWire),
    removed: diff.removed.map(columnToWire),
    retyped: diff.retyped,
    nullability_changed: diff.nullabilityChanged,
  };
}

export function columnProfileToWire(profile: ColumnProfile) {
  const base = {
    logical_type: profile.logicalType,
    count: profile.count,
    nulls: profile.nulls,
    distinct: profile.distinct,
  };
  switch (profile.kind) {
    case 'numeric':
      return {
        kind: profile.kind,
        ...base,
        min: profile.min,
        max: profile.max,
        mean: profile.mean,
        std: profile.std,
        quantiles: profile.quantiles,
        histogram: profile.histogram,
      };
    case 'categorical':
      return { kind: profile.kind, ...base, top: profile.top, other: profile.other };
    case 'datetime':
      return { kind: profile.kind, ...base, min: profile.min, max: profile.max };
  }
}

export function profileToWire(profile: DatasetProfile) {
  return {
    row_count: profile.rowCount,
    columns: Object.fromEntries(Object.entries(profile.columns).map(([name, c]) => [name, columnProfileToWire(c)])),
  };
}
