import { type FastifyPluginAsyncTypebox, Type } from '@fastify/type-provider-typebox';
import type { ColumnProfile, ColumnSchema, Dataset, DatasetProfile, DatasetVersion, SchemaDiff } from './model.js';
import { DATASET_NAME_PATTERN, type DatasetService, DEFAULT_DATASET_PAGE, MAX_DATASET_PAGE } from './service.js';

const tags = ['datasets'];

const DatasetSchema = Type.Object({
  name: Type.String(),
  description: Type.String(),
  tags: Type.Record(Type.String(), Type.String()),
  created_at: Type.String({ format: 'date-time' }),
  updated_at: Type.String({ format: 'date-time' }),
});

const DatasetEnvelope = Type.Object({ dataset: DatasetSchema });

const LogicalTypeSchema = Type.Union([
  Type.Literal('integer'),
  Type.Literal('float'),
  Type.Literal('boolean'),
  Type.Literal('string'),
  Type.Literal('categorical'),
  Type.Literal('datetime'),
]);

const FormatSchema = Type.Union(
  [Type.Literal('csv'), Type.Literal('parquet'), Type.Literal('json'), Type.Literal('ndjson'), Type.Literal('arrow')],
  { description: 'One of csv, parquet, json, ndjson, arrow; inferred from the extension when left out.' },
);

const ColumnWireSchema = Type.Object({
  name: Type.String(),
  logical_type: LogicalTypeSchema,
  physical_type: Type.String({ description: "DuckDB's own type name, e.g. BIGINT." }),
  nullable: Type.Boolean(),
  domain: Type.Optional(Type.Array(Type.String(), { description: 'Categorical columns only: the distinct values.' })),
});

const versionFields = {
  dataset_name: Type.String(),
  version: Type.Integer({ minimum: 1 }),
  digest: Type.String({ description: 'SHA-256 of the full source content, hex.' }),
  source_kind: Type.String(),
  source: Type.String(),
  format: FormatSchema,
  row_count: Type.Integer(),
  column_count: Type.Integer(),
  created_at: Type.String({ format: 'date-time' }),
  created_by: Type.String(),
};

const VersionSummarySchema = Type.Object(versionFields);
const VersionSchema = Type.Object({ ...versionFields, schema: Type.Object({ columns: Type.Array(ColumnWireSchema) }) });
const VersionEnvelope = Type.Object({ version: VersionSchema });

const NameParams = Type.Object({ name: Type.String({ description: 'The dataset name.' }) });
const VersionParams = Type.Object({
  name: Type.String({ description: 'The dataset name.' }),
  version: Type.Integer({ minimum: 1, description: 'The version number, from 1.' }),
});

const ListQuery = Type.Object({
  max_results: Type.Optional(
    Type.Integer({
      minimum: 1,
      maximum: MAX_DATASET_PAGE,
      description: `Page size; default ${DEFAULT_DATASET_PAGE}.`,
    }),
  ),
  page_token: Type.Optional(Type.String({ description: 'The next_page_token of the previous page.' })),
});

const CreateBody = Type.Object(
  {
    name: Type.String({ pattern: DATASET_NAME_PATTERN.source, description: 'Letters, digits, . _ -; 1 to 128.' }),
    description: Type.Optional(Type.String({ maxLength: 4096 })),
    tags: Type.Optional(Type.Record(Type.String(), Type.String())),
  },
  { additionalProperties: false },
);

const IngestBody = Type.Object(
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

const DiffQuery = Type.Object({
  from: Type.Integer({ minimum: 1, description: 'The version to compare from.' }),
  to: Type.Integer({ minimum: 1, description: 'The version to compare to.' }),
});

const DiffSchema = Type.Object({
  added: Type.Array(ColumnWireSchema),
  removed: Type.Array(ColumnWireSchema),
  retyped: Type.Array(Type.Object({ name: Type.String(), from: LogicalTypeSchema, to: LogicalTypeSchema })),
  nullability_changed: Type.Array(Type.String()),
});

const NullableNumber = Type.Union([Type.Number(), Type.Null()]);
const profileBase = {
  logical_type: LogicalTypeSchema,
  count: Type.Integer({ description: 'Non-null values.' }),
  nulls: Type.Integer(),
  distinct: Type.Integer({ description: 'An estimate (HyperLogLog).' }),
};

const ColumnProfileSchema = Type.Union([
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

const ProfileSchema = Type.Object({
  row_count: Type.Integer(),
  columns: Type.Record(Type.String(), ColumnProfileSchema, { description: 'Keyed by column name.' }),
});

/** A dataset as it travels over HTTP: snake_case, like the rest of the REST API. */
export interface DatasetWire {
  name: string;
  description: string;
  tags: Record<string, string>;
  created_at: string;
  updated_at: string;
}

function datasetToWire(dataset: Dataset): DatasetWire {
  return {
    name: dataset.name,
    description: dataset.description,
    tags: dataset.tags,
    created_at: dataset.createdAt,
    updated_at: dataset.updatedAt,
  };
}

function columnToWire(column: ColumnSchema) {
  return {
    name: column.name,
    logical_type: column.logicalType,
    physical_type: column.physicalType,
    nullable: column.nullable,
    ...(column.domain === undefined ? {} : { domain: column.domain }),
  };
}

function versionSummaryToWire(version: DatasetVersion) {
  return {
    dataset_name: version.datasetName,
    version: version.version,
    digest: version.digest,
    source_kind: version.sourceKind,
    source: version.source,
    format: version.format,
    row_count: version.rowCount,
    column_count: version.columnCount,
    created_at: version.createdAt,
    created_by: version.createdBy,
  };
}

function versionToWire(version: DatasetVersion) {
  return { ...versionSummaryToWire(version), schema: { columns: version.schema.columns.map(columnToWire) } };
}

function diffToWire(diff: SchemaDiff) {
  return {
    added: diff.added.map(columnToWire),
    removed: diff.removed.map(columnToWire),
    retyped: diff.retyped,
    nullability_changed: diff.nullabilityChanged,
  };
}

function columnProfileToWire(profile: ColumnProfile) {
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

function profileToWire(profile: DatasetProfile) {
  return {
    row_count: profile.rowCount,
    columns: Object.fromEntries(Object.entries(profile.columns).map(([name, c]) => [name, columnProfileToWire(c)])),
  };
}

/** What {@link datasetRoutes} is registered with: the service its handlers call. */
export interface DatasetRoutesOptions {
  service: DatasetService;
}

/**
 * The datasets REST surface: list, create and get datasets, ingest a version from a file on the
 * server, read versions with their schema and profile, and diff two versions' schemas. Ingesting by path is
 * an `admin` operation because it reads the server's file system.
 *
 * @example
 * await app.register(datasetRoutes, { prefix: '/api/v1/datasets', service });
 * // POST /api/v1/datasets/penguins/versions { "path": "/data/penguins.json" } → 201 { version: {...} }
 */
export const datasetRoutes: FastifyPluginAsyncTypebox<DatasetRoutesOptions> = async (app, { service }) => {
  app.get(
    '',
    {
      config: { permission: 'read' },
      schema: {
        summary: 'List datasets in name order, one page at a time',
        tags,
        querystring: ListQuery,
        response: {
          200: Type.Object({ datasets: Type.Array(DatasetSchema), next_page_token: Type.Optional(Type.String()) }),
        },
      },
    },
    async (request) => {
      const page = await service.list(request.ctx, {
        ...(request.query.max_results === undefined ? {} : { maxResults: request.query.max_results }),
        ...(request.query.page_token === undefined ? {} : { pageToken: request.query.page_token }),
      });
      const body: { datasets: DatasetWire[]; next_page_token?: string } = {
        datasets: page.datasets.map(datasetToWire),
      };
      if (page.nextPageToken !== undefined) body.next_page_token = page.nextPageToken;
      return body;
    },
  );

  app.post(
    '',
    {
      config: { permission: 'write' },
      schema: { summary: 'Create a dataset', tags, body: CreateBody, response: { 201: DatasetEnvelope } },
    },
    async (request, reply) => {
      const dataset = await service.create(request.ctx, request.body);
      return reply.code(201).send({ dataset: datasetToWire(dataset) });
    },
  );

  app.get(
    '/:name',
    {
      config: { permission: 'read' },
      schema: { summary: 'Get one dataset', tags, params: NameParams, response: { 200: DatasetEnvelope } },
    },
    async (request) => ({ dataset: datasetToWire(await service.get(request.ctx, request.params.name)) }),
  );

  app.get(
    '/:name/versions',
    {
      config: { permission: 'read' },
      schema: {
        summary: "List a dataset's versions in ascending order, without their schemas",
        tags,
        params: NameParams,
        response: { 200: Type.Object({ versions: Type.Array(VersionSummarySchema) }) },
      },
    },
    async (request) => ({
      versions: (await service.listVersions(request.ctx, request.params.name)).map(versionSummaryToWire),
    }),
  );

  app.post(
    '/:name/versions',
    {
      config: { permission: 'admin' },
      schema: {
        summary: 'Ingest a file on the server as the next version',
        description:
          "Reads `path` from the server's own file system (CSV, Parquet, JSON, NDJSON), infers its schema and " +
          'stores it as Parquet under a SHA-256 digest of the full content; identical content yields the same ' +
          "digest. Because it reads the server's file system, this needs the `admin` permission. The dataset " +
          'must exist already.',
        tags,
        params: NameParams,
        body: IngestBody,
        response: { 201: VersionEnvelope },
      },
    },
    async (request, reply) => {
      const version = await service.ingestVersion(request.ctx, request.params.name, request.body);
      return reply.code(201).send({ version: versionToWire(version) });
    },
  );

  app.get(
    '/:name/versions/:version',
    {
      config: { permission: 'read' },
      schema: {
        summary: 'Get one version with its schema',
        tags,
        params: VersionParams,
        response: { 200: VersionEnvelope },
      },
    },
    async (request) => ({
      version: versionToWire(await service.getVersion(request.ctx, request.params.name, request.params.version)),
    }),
  );

  app.get(
    '/:name/versions/:version/profile',
    {
      config: { permission: 'read' },
      schema: {
        summary:
          "Get a version's profile: per-column counts, nulls, distinct values, statistics, histogram or top values",
        tags,
        params: VersionParams,
        response: { 200: Type.Object({ profile: ProfileSchema }) },
      },
    },
    async (request) => ({
      profile: profileToWire(await service.getProfile(request.ctx, request.params.name, request.params.version)),
    }),
  );

  app.get(
    '/:name/diff',
    {
      config: { permission: 'read' },
      schema: {
        summary: 'The schema change between two versions: added, removed and retyped columns',
        tags,
        params: NameParams,
        querystring: DiffQuery,
        response: { 200: Type.Object({ diff: DiffSchema }) },
      },
    },
    async (request) => ({
      diff: diffToWire(await service.diff(request.ctx, request.params.name, request.query.from, request.query.to)),
    }),
  );
};
