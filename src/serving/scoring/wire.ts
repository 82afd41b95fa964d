/** The scoring-jobs API's wire shapes: TypeBox schemas for validation and OpenAPI, and snake_case converters. */
import { Type } from '@fastify/type-provider-typebox';
import { MAX_CHUNK_ROWS } from '../../data/index.js';
import type { ScoringJob } from './jobs.js';
import { DEFAULT_CHUNK_ROWS } from './request.js';

export const ScoringRequestSchema = Type.Object(
  {
    model: Type.String({
      description: "The registered model: 'models:/name/version', or 'models:/name@alias' (resolved when submitted).",
    }),
    data: Type.String({ description: "The dataset version to score: 'name@version', or 'name' for the latest." }),
    out: Type.String({ description: 'Dataset the scored rows become the next version of; created when missing.' }),
    chunk_rows: Type.Optional(
      Type.Integer({
        minimum: 1,
        maximum: MAX_CHUNK_ROWS,
        description: `Rows scored per chunk; default ${DEFAULT_CHUNK_ROWS}.`,
      }),
    ),
  },
  { additionalProperties: false },
);

const VersionRef = Type.Object({ dataset: Type.String(), version: Type.Integer() });

export const ScoringJobSchema = Type.Object({
  id: Type.String(),
  state: Type.Union([
    Type.Literal('queued'),
    Type.Literal('running'),
    Type.Literal('succeeded'),
    Type.Literal('failed'),
  ]),
  request: Type.Object({
    model: Type.String(),
    data: Type.String(),
    out: Type.String(),
    chunk_rows: Type.Integer(),
  }),
  model: Type.Object(
    { name: Type.String(), version: Type.Integer() },
    { description: 'The registered model version applied (an alias as resolved when submitted).' },
  ),
  input: Type.Object({ ...VersionRef.properties }, { description: 'The dataset version scored.' }),
  progress: Type.Object({
    rows_scored: Type.Integer(),
    total_rows: Type.Integer(),
    chunks_done: Type.Integer(),
    total_chunks: Type.Integer(),
  }),
  output: Type.Optional(
    Type.Object({ ...VersionRef.properties }, { description: 'The version the scored rows were recorded as.' }),
  ),
  error: Type.Optional(Type.String()),
  created_by: Type.String(),
  created_at: Type.String({ format: 'date-time' }),
  updated_at: Type.String({ format: 'date-time' }),
  started_at: Type.Optional(Type.String({ format: 'date-time' })),
  finished_at: Type.Optional(Type.String({ format: 'date-time' })),
});

export const ScoringJobEnvelope = Type.Object({ job: ScoringJobSchema });

export const ScoringJobParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 200 }) });

export const ScoringJobListQuery = Type.Object({
  max_results: Type.Optional(Type.Integer({ minimum: 1, maximum: 500, description: 'Page size; default 50.' })),
  page_token: Type.Optional(Type.String({ description: 'The next_page_token of the previous page.' })),
});

/** A job in its wire form (snake_case). */
export function scoringJobToWire(job: ScoringJob) {
  return {
    id: job.id,
    state: job.state,
    request: {
      model: job.request.model,
      data: job.request.data,
      out: job.request.out,
      chunk_rows: job.request.chunkRows,
    },
    model: job.model,
    input: job.input,
    progress: {
      rows_scored: job.progress.rowsScored,
      total_rows: job.progress.totalRows,
      chunks_done: job.progress.chunksDone,
      total_chunks: job.progress.totalChunks,
    },
    ...(job.output === undefined ? {} : { output: job.output }),
    ...(job.error === undefined ? {} : { error: job.error }),
    created_by: job.createdBy,
    created_at: job.createdAt,
    updated_at: job.updatedAt,
    ...(job.startedAt === undefined ? {} : { started_at: job.startedAt }),
    ...(job.finishedAt === undefined ? {} : { finished_at: job.finishedAt }),
  };
}
