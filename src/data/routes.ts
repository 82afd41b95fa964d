import multipart from '@fastify/multipart';
import { type FastifyPluginAsyncTypebox, Type } from '@fastify/type-provider-typebox';
import type { FastifyRequest } from 'fastify';
import { KilnError } from '../core/index.js';
import type { CsvOptions } from './model.js';
import type { UploadVersionInput } from './operations.js';
import type { DatasetService } from './service.js';
import type { SuiteService } from './suites.js';
import type { SuiteDefinition } from './validation/index.js';
import {
  ColumnWireSchema,
  CreateBody,
  DatasetEnvelope,
  DatasetSchema,
  type DatasetWire,
  DeriveBody,
  DiffQuery,
  DiffSchema,
  DownloadQuery,
  datasetToWire,
  diffToWire,
  IngestBody,
  ListQuery,
  NameParams,
  PiiQuery,
  ProfileSchema,
  profileToWire,
  ReportSchema,
  RowsPageSchema,
  RowsQuery,
  SplitBody,
  SuiteAttachmentSchema,
  schemaToWire,
  UpdateBody,
  UploadQuery,
  ValidateBody,
  VersionEnvelope,
  VersionParams,
  VersionSchema,
  VersionSummarySchema,
  versionSummaryToWire,
  versionToWire,
} from './wire.js';

const tags = ['datasets'];

/** What {@link datasetRoutes} is registered with: the service its handlers call. */
export interface DatasetRoutesOptions {
  service: DatasetService;
  suites: SuiteService;
  /** Largest upload accepted, in bytes (KILN_UPLOAD_LIMIT). */
  uploadLimit: number;
}

/** The CSV overrides given as query parameters of an upload. */
function csvFromQuery(query: { delimiter?: string; header?: boolean; quote?: string }): CsvOptions | undefined {
  const csv: CsvOptions = {};
  if (query.delimiter !== undefined) csv.delimiter = query.delimiter === '\\t' ? '\t' : query.delimiter;
  if (query.header !== undefined) csv.header = query.header;
  if (query.quote !== undefined) csv.quote = query.quote;
  return Object.keys(csv).length === 0 ? undefined : csv;
}

/** The file of a multipart upload (the first file part) or a raw body, as a stream. */
async function uploadBody(
  request: FastifyRequest,
  limit: number,
): Promise<Pick<UploadVersionInput, 'body' | 'filename'>> {
  const declared = Number(request.headers['content-length']);
  if (!request.isMultipart() && Number.isFinite(declared) && declared > limit) {
    // Refused before reading a byte; the server then discards the unread body.
    throw new KilnError('PAYLOAD_TOO_LARGE', `upload of ${declared} bytes is larger than ${limit} bytes`, {
      field: 'file',
      limit,
    });
  }
  if (request.isMultipart()) {
    const part = await request.file();
    if (part === undefined) {
      throw new KilnError('INVALID_PARAMETER_VALUE', 'multipart upload has no file part', { field: 'file' });
    }
    return { body: part.file, filename: part.filename };
  }
  return { body: request.body as UploadVersionInput['body'] };
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
export const datasetRoutes: FastifyPluginAsyncTypebox<DatasetRoutesOptions> = async (
  app,
  { service, suites, uploadLimit },
) => {
  // Uploads stream: a raw body is handed over unread, a multipart file part as its stream.
  app.addContentTypeParser('application/octet-stream', (_request, payload, done) => done(null, payload));
  await app.register(multipart, { limits: { files: 1, fileSize: uploadLimit + 1, fields: 0, parts: 2 } });

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

  app.patch(
    '/:name',
    {
      config: { permission: 'write' },
      schema: {
        summary: "Change a dataset's description or tags (tags are replaced as a whole)",
        tags,
        params: NameParams,
        body: UpdateBody,
        response: { 200: DatasetEnvelope },
      },
    },
    async (request) => ({
      dataset: datasetToWire(await service.update(request.ctx, request.params.name, request.body)),
    }),
  );

  app.put(
    '/:name/suite',
    {
      config: { permission: 'write' },
      schema: {
        summary: 'Attach a validation suite: every new version must pass its error-level expectations',
        tags,
        params: NameParams,
        body: SuiteAttachmentSchema,
        response: { 200: DatasetEnvelope },
      },
    },
    async (request) => ({
      dataset: datasetToWire(await service.attachSuite(request.ctx, request.params.name, request.body)),
    }),
  );

  app.delete(
    '/:name/suite',
    {
      config: { permission: 'write' },
      schema: { summary: 'Detach the validation suite', tags, params: NameParams, response: { 200: DatasetEnvelope } },
    },
    async (request) => ({ dataset: datasetToWire(await service.detachSuite(request.ctx, request.params.name)) }),
  );

  app.post(
    '/:name/versions/upload',
    {
      config: { permission: 'write' },
      schema: {
        summary: 'Upload a file as the next version (multipart/form-data or a raw body), streamed to disk',
        description:
          'Send `multipart/form-data` with one file part, or the file itself as `application/octet-stream`. ' +
          'The format comes from `format` or the file name; CSV overrides are query parameters. The body is ' +
          `streamed to a temporary file, never held in memory; larger than KILN_UPLOAD_LIMIT gives 413.`,
        tags,
        params: NameParams,
        querystring: UploadQuery,
        consumes: ['multipart/form-data', 'application/octet-stream'],
        response: { 201: VersionEnvelope },
      },
    },
    async (request, reply) => {
      const { format, filename, ...csvQuery } = request.query;
      const csv = csvFromQuery(csvQuery);
      try {
        const upload = await uploadBody(request, uploadLimit);
        const version = await service.ingestUpload(request.ctx, request.params.name, {
          ...upload,
          ...(filename === undefined ? {} : { filename }),
          ...(format === undefined ? {} : { format }),
          ...(csv === undefined ? {} : { csv }),
          maxBytes: uploadLimit,
        });
        return reply.code(201).send({ version: versionToWire(version) });
      } catch (err) {
        // The rest of a refused body is not worth receiving: answer, then close the connection.
        if (err instanceof KilnError && err.code === 'PAYLOAD_TOO_LARGE') reply.header('connection', 'close');
        throw err;
      }
    },
  );

  app.post(
    '/:name/derive',
    {
      config: { permission: 'write' },
      schema: {
        summary: "Record the result of an SQL query over earlier versions as this dataset's next version",
        description:
          "The query reads versions as `dataset('flights', 3)` (or `dataset('flights')` for the latest) and runs " +
          'in a locked-down DuckDB session that can read nothing else. The dataset is created when missing; the ' +
          'new version records every version it read as lineage. An optional PII policy masks, hashes or drops ' +
          'the named (or the flagged) columns first.',
        tags,
        params: NameParams,
        body: DeriveBody,
        response: { 201: VersionEnvelope },
      },
    },
    async (request, reply) => {
      const version = await service.derive(request.ctx, request.params.name, request.body);
      return reply.code(201).send({ version: versionToWire(version) });
    },
  );

  app.post(
    '/:name/versions/:version/split',
    {
      config: { permission: 'write' },
      schema: {
        summary: 'Split a version into train / validation / test versions (random, stratified or by time)',
        description:
          'Each part becomes the next version of `<name>.train`, `<name>.validation` and `<name>.test` (created ' +
          'when missing), with lineage to this version. The same version and spec give the same rows every time.',
        tags,
        params: VersionParams,
        body: SplitBody,
        response: {
          201: Type.Object({
            train: Type.Optional(VersionSchema),
            validation: Type.Optional(VersionSchema),
            test: Type.Optional(VersionSchema),
          }),
        },
      },
    },
    async (request, reply) => {
      const parts = await service.split(request.ctx, request.params.name, request.params.version, request.body);
      return reply
        .code(201)
        .send(
          Object.fromEntries(
            Object.entries(parts).flatMap(([part, version]) =>
              version === undefined ? [] : [[part, versionToWire(version)]],
            ),
          ),
        );
    },
  );

  app.get(
    '/:name/versions/:version/schema',
    {
      config: { permission: 'read' },
      schema: {
        summary: "A version's inferred schema: logical and physical types, nullability, categorical domains",
        tags,
        params: VersionParams,
        response: { 200: Type.Object({ schema: Type.Object({ columns: Type.Array(ColumnWireSchema) }) }) },
      },
    },
    async (request) => ({
      schema: schemaToWire(await service.getVersion(request.ctx, request.params.name, request.params.version)),
    }),
  );

  app.get(
    '/:name/versions/:version/rows',
    {
      config: { permission: 'read' },
      schema: {
        summary: 'Preview rows of a version, one page at a time, in file order',
        tags,
        params: VersionParams,
        querystring: RowsQuery,
        response: { 200: RowsPageSchema },
      },
    },
    async (request) => {
      const page = await service.preview(request.ctx, request.params.name, request.params.version, request.query);
      const next = page.offset + page.rows.length;
      return next < page.total && page.rows.length > 0 ? { ...page, next_offset: next } : page;
    },
  );

  app.get(
    '/:name/versions/:version/download',
    {
      config: { permission: 'read' },
      schema: {
        summary: 'Download a version: its stored Parquet, or CSV / NDJSON converted by DuckDB',
        tags,
        params: VersionParams,
        querystring: DownloadQuery,
      },
    },
    async (request, reply) => {
      const download = await service.download(
        request.ctx,
        request.params.name,
        request.params.version,
        request.query.format ?? 'parquet',
      );
      return reply
        .header('content-type', download.contentType)
        .header('content-disposition', `attachment; filename="${download.filename}"`)
        .send(download.stream);
    },
  );

  app.post(
    '/:name/versions/:version/validate',
    {
      config: { permission: 'read' },
      schema: {
        summary: 'Validate a version against a saved or inline suite; nothing is recorded',
        tags,
        params: VersionParams,
        body: ValidateBody,
        response: { 200: Type.Object({ report: ReportSchema }) },
      },
    },
    async (request) => {
      const { suite, suite_version: suiteVersion, definition } = request.body;
      if ((suite === undefined) === (definition === undefined)) {
        throw new KilnError('INVALID_PARAMETER_VALUE', 'give either suite (a saved suite) or definition (inline)', {
          field: 'suite',
        });
      }
      const saved = suite === undefined ? undefined : await suites.get(request.ctx, suite, suiteVersion);
      const document: SuiteDefinition = saved?.definition ?? suites.check(definition);
      const report = await service.validate(request.ctx, request.params.name, request.params.version, document);
      if (saved !== undefined) report.suite_version = saved.version;
      return { report };
    },
  );

  app.get(
    '/:name/versions/:version/pii',
    {
      config: { permission: 'read' },
      schema: {
        summary: 'Scan a version for personal data: e-mail, phone, card numbers, IBAN, IP, national identifiers',
        tags,
        params: VersionParams,
        querystring: PiiQuery,
        response: { 200: Type.Object({ pii: Type.Unknown() }) },
      },
    },
    async (request) => ({
      pii: await service.scanPii(request.ctx, request.params.name, request.params.version, request.query.threshold),
    }),
  );
};
