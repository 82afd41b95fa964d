/** The deployments API's wire shapes: TypeBox schemas for validation and OpenAPI, and snake_case converters. */
import { Type } from '@fastify/type-provider-typebox';
import type { DeploymentLiveStatus, ShadowReport } from '../types.js';
import type { DeploymentView } from './service.js';
import { specToWire } from './spec.js';
import type { DeploymentRevision } from './store.js';

const MODEL_REF = 'models:/<name>/<version>, or models:/<name>@<alias> to follow the alias (hot swap when it moves).';

const TargetInput = Type.Object(
  {
    model: Type.String({ description: MODEL_REF }),
    role: Type.Optional(
      Type.String({ description: "primary, canary, variant or shadow; default primary ('variant' under ab)." }),
    ),
    weight: Type.Optional(
      Type.Number({
        description:
          'Percent, 0–100. canary: share of traffic (default 10); variant: share (the variants sum to 100, equal by default); ' +
          'shadow: share of requests mirrored (default 100); primary: takes the rest.',
      }),
    ),
  },
  { additionalProperties: false },
);

const BatchingInput = Type.Union([
  Type.Object(
    {
      max_batch_size: Type.Optional(Type.Integer({ description: 'Rows per predict call, 1–10000; default 32.' })),
      max_wait_ms: Type.Optional(
        Type.Number({ description: 'Longest a request waits for others, 0–1000; default 2.' }),
      ),
    },
    { additionalProperties: false },
  ),
  Type.Null(),
]);

const InputPolicyInput = Type.Object(
  {
    extra_columns: Type.Optional(
      Type.String({ description: "Columns the model does not read: 'ignore' (default) or 'reject'." }),
    ),
    max_batch_rows: Type.Optional(Type.Integer({ description: 'Most rows per request, 1–1000000; default 10000.' })),
  },
  { additionalProperties: false },
);

const LoggingInput = Type.Object(
  { sample_rate: Type.Optional(Type.Number({ description: 'Share of requests logged, 0–1; default 1.' })) },
  { additionalProperties: false },
);

const settings = {
  strategy: Type.Optional(
    Type.String({ description: 'single, canary, ab or shadow; default from the roles of the targets.' }),
  ),
  batching: Type.Optional(BatchingInput),
  max_queue: Type.Optional(
    Type.Integer({ description: 'Requests queued or in flight before 503 with Retry-After; default 1000.' }),
  ),
  timeout_ms: Type.Optional(Type.Integer({ description: 'Per-request limit, 504 beyond; default 10000.' })),
  input: Type.Optional(InputPolicyInput),
  logging: Type.Optional(LoggingInput),
};

/** `POST /api/v1/deployments`. */
export const CreateDeploymentBody = Type.Object(
  {
    name: Type.String({ description: 'Deployment name, the endpoint under /serve/<name>; rules as model names.' }),
    targets: Type.Array(TargetInput, { description: 'The models served and their roles.' }),
    ...settings,
  },
  { additionalProperties: false },
);

/** `PATCH /api/v1/deployments/:name`: the fields to change. */
export const UpdateDeploymentBody = Type.Object(
  {
    name: Type.Optional(Type.String({ description: 'Must equal the current name if given.' })),
    targets: Type.Optional(
      Type.Array(TargetInput, { description: 'Replaces every target; the strategy follows their roles unless given.' }),
    ),
    ...settings,
  },
  { additionalProperties: false },
);

export const PromoteBody = Type.Object(
  {
    target: Type.Optional(
      Type.String({ description: 'The target to promote, by model reference; default the canary or the only shadow.' }),
    ),
  },
  { additionalProperties: false },
);

export const RollbackBody = Type.Object(
  {
    revision: Type.Optional(
      Type.Integer({ minimum: 1, description: 'The revision whose spec becomes current; default the previous one.' }),
    ),
  },
  { additionalProperties: false },
);

export const NameParams = Type.Object({ name: Type.String({ minLength: 1, description: 'The deployment name.' }) });

export const PageQuery = Type.Object({
  max_results: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, description: 'Page size; default 100.' })),
  page_token: Type.Optional(Type.String({ description: 'The next_page_token of the previous page.' })),
});

const TargetSchema = Type.Object({ model: Type.String(), role: Type.String(), weight: Type.Number() });

/** A spec with every default filled in. */
export const DeploymentSpecSchema = Type.Object({
  name: Type.String(),
  strategy: Type.String(),
  targets: Type.Array(TargetSchema),
  batching: Type.Optional(Type.Object({ max_batch_size: Type.Integer(), max_wait_ms: Type.Number() })),
  max_queue: Type.Integer(),
  timeout_ms: Type.Integer(),
  input: Type.Object({ extra_columns: Type.String(), max_batch_rows: Type.Integer() }),
  logging: Type.Object({ sample_rate: Type.Number() }),
});

const Latency = Type.Object({ p50: Type.Number(), p99: Type.Number() });

export const LiveStatusSchema = Type.Object({
  name: Type.String(),
  ready: Type.Boolean({ description: 'True once every target is loaded and warmed in this server.' }),
  targets: Type.Array(
    Type.Object({
      model: Type.String(),
      role: Type.String(),
      weight: Type.Number(),
      version: Type.String({
        description: 'The version serving now (an alias target resolves to it); empty if not loaded.',
      }),
      ready: Type.Boolean(),
      requests: Type.Integer(),
      errors: Type.Integer(),
      in_flight: Type.Integer(),
      queue_depth: Type.Integer(),
      latency_ms: Latency,
    }),
  ),
});

/** A deployment: its current spec and revision, and its live status in this server. */
export const DeploymentSchema = Type.Object({
  ...DeploymentSpecSchema.properties,
  revision: Type.Integer(),
  reason: Type.String({ description: 'Why the current revision exists: create, update, promote or rollback.' }),
  created_by: Type.String(),
  created_at: Type.String({ format: 'date-time' }),
  updated_by: Type.String(),
  updated_at: Type.String({ format: 'date-time' }),
  status: LiveStatusSchema,
});

export const DeploymentEnvelope = Type.Object({ deployment: DeploymentSchema });

export const DeploymentPageSchema = Type.Object({
  deployments: Type.Array(DeploymentSchema),
  next_page_token: Type.Optional(Type.String()),
});

export const RevisionSchema = Type.Object({
  revision: Type.Integer(),
  reason: Type.String(),
  actor: Type.String(),
  created_at: Type.String({ format: 'date-time' }),
  spec: DeploymentSpecSchema,
});

export const RevisionPageSchema = Type.Object({
  revisions: Type.Array(RevisionSchema),
  next_page_token: Type.Optional(Type.String()),
});

export const ShadowReportSchema = Type.Object({
  deployment: Type.String(),
  since: Type.String(),
  comparisons: Type.Array(
    Type.Object({
      shadow: Type.String(),
      shadow_version: Type.String(),
      mirrored: Type.Integer(),
      shadow_errors: Type.Integer(),
      label_agreement: Type.Optional(Type.Number({ description: 'Classification: share of rows whose labels agree.' })),
      mean_abs_diff: Type.Optional(Type.Number()),
      max_abs_diff: Type.Optional(Type.Number()),
      primary_latency_ms: Latency,
      shadow_latency_ms: Latency,
    }),
  ),
});

/** Live status as the API returns it. */
export function statusToWire(status: DeploymentLiveStatus) {
  return {
    name: status.name,
    ready: status.ready,
    targets: status.targets.map((t) => ({
      model: t.model,
      role: t.role,
      weight: t.weight,
      version: t.version,
      ready: t.ready,
      requests: t.requests,
      errors: t.errors,
      in_flight: t.inFlight,
      queue_depth: t.queueDepth,
      latency_ms: { p50: t.latencyMs.p50, p99: t.latencyMs.p99 },
    })),
  };
}

/** A deployment as the API returns it. */
export function deploymentToWire(view: DeploymentView) {
  return {
    ...specToWire(view.spec),
    revision: view.revision,
    reason: view.reason,
    created_by: view.createdBy,
    created_at: view.createdAt,
    updated_by: view.updatedBy,
    updated_at: view.updatedAt,
    status: statusToWire(view.status),
  };
}

/** A revision as the API returns it. */
export function revisionToWire(revision: DeploymentRevision) {
  return {
    revision: revision.revision,
    reason: revision.reason,
    actor: revision.actor,
    created_at: revision.createdAt,
    spec: specToWire(revision.spec),
  };
}

/** A shadow report as the API returns it. */
export function shadowReportToWire(report: ShadowReport) {
  return {
    deployment: report.deployment,
    since: report.since,
    comparisons: report.comparisons.map((c) => ({
      shadow: c.shadow,
      shadow_version: c.shadowVersion,
      mirrored: c.mirrored,
      shadow_errors: c.shadowErrors,
      ...(c.labelAgreement === undefined ? {} : { label_agreement: c.labelAgreement }),
      ...(c.meanAbsDiff === undefined ? {} : { mean_abs_diff: c.meanAbsDiff }),
      ...(c.maxAbsDiff === undefined ? {} : { max_abs_diff: c.maxAbsDiff }),
      primary_latency_ms: c.primaryLatencyMs,
      shadow_latency_ms: c.shadowLatencyMs,
    })),
  };
}
