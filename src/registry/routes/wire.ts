import { type Static, Type } from '@fastify/type-provider-typebox';
import type { RegistryEvent } from '../events.js';
import type { ModelVersion, RegisteredModel } from '../model.js';

/** A tag on the wire. */
export const TagSchema = Type.Object({ key: Type.String(), value: Type.String() });

const ColumnSpecSchema = Type.Object({
  name: Type.Optional(Type.String()),
  type: Type.Union([
    Type.Literal('boolean'),
    Type.Literal('integer'),
    Type.Literal('long'),
    Type.Literal('float'),
    Type.Literal('double'),
    Type.Literal('string'),
    Type.Literal('binary'),
    Type.Literal('datetime'),
  ]),
  optional: Type.Optional(Type.Boolean()),
});

/** A model signature on the wire (the same shape as `ModelSignature`). */
export const SignatureSchema = Type.Object(
  { inputs: Type.Array(ColumnSpecSchema), outputs: Type.Optional(Type.Array(ColumnSpecSchema)) },
  { description: 'Input and output columns of the model.' },
);

/** A model version on the Kiln REST API. */
export const ModelVersionSchema = Type.Object({
  name: Type.String(),
  version: Type.Integer({ minimum: 1 }),
  creation_timestamp: Type.Integer({ description: 'Epoch milliseconds.' }),
  last_updated_timestamp: Type.Integer({ description: 'Epoch milliseconds.' }),
  user_id: Type.String(),
  current_stage: Type.Union(
    [Type.Literal('None'), Type.Literal('Staging'), Type.Literal('Production'), Type.Literal('Archived')],
    { description: 'MLflow stage (deprecated).' },
  ),
  description: Type.String(),
  source: Type.String({ description: 'Validated artifact URI of the model files.' }),
  run_id: Type.Optional(Type.String()),
  run_link: Type.String(),
  status: Type.Union([
    Type.Literal('READY'),
    Type.Literal('PENDING_REGISTRATION'),
    Type.Literal('FAILED_REGISTRATION'),
  ]),
  status_message: Type.String(),
  tags: Type.Array(TagSchema),
  aliases: Type.Array(Type.String()),
  signature: Type.Optional(SignatureSchema),
});

/** A registered model on the Kiln REST API. */
export const RegisteredModelSchema = Type.Object({
  name: Type.String(),
  description: Type.String(),
  creation_timestamp: Type.Integer({ description: 'Epoch milliseconds.' }),
  last_updated_timestamp: Type.Integer({ description: 'Epoch milliseconds.' }),
  tags: Type.Array(TagSchema),
  aliases: Type.Array(Type.Object({ alias: Type.String(), version: Type.Integer() })),
  latest_versions: Type.Array(ModelVersionSchema, { description: 'Newest READY version per stage.' }),
});

/** A registry event on the Kiln REST API. */
export const EventSchema = Type.Object({
  id: Type.Integer(),
  type: Type.String(),
  model: Type.String(),
  version: Type.Optional(Type.Integer()),
  alias: Type.Optional(Type.String()),
  payload: Type.Record(Type.String(), Type.Unknown()),
  actor: Type.String(),
  request_id: Type.String(),
  created_at: Type.String({ format: 'date-time' }),
});

/** Query of a search route: MLflow filter and order_by, a page size up to `maxResults`, a page token. */
export function searchQuery(maxResults: number) {
  return Type.Object({
    filter: Type.Optional(
      Type.String({ description: "MLflow filter, e.g. name LIKE 'churn%' AND tags.team = 'risk'" }),
    ),
    order_by: Type.Optional(
      Type.Union([Type.String(), Type.Array(Type.String())], { description: "e.g. 'name DESC'; repeat for more" }),
    ),
    max_results: Type.Optional(Type.Integer({ minimum: 1, maximum: maxResults })),
    page_token: Type.Optional(Type.String({ description: 'The next_page_token of the previous page.' })),
  });
}

/** The service's search input from a search route's query. */
export function searchInput(q: {
  filter?: string;
  order_by?: string | string[];
  max_results?: number;
  page_token?: string;
}) {
  return {
    ...(q.filter === undefined ? {} : { filter: q.filter }),
    ...(q.order_by === undefined ? {} : { orderBy: orderList(q.order_by) }),
    ...(q.max_results === undefined ? {} : { maxResults: q.max_results }),
    ...(q.page_token === undefined ? {} : { pageToken: q.page_token }),
  };
}

/** Path parameters of routes under one model. */
export const NameParams = Type.Object({ name: Type.String({ description: 'Registered model name.' }) });

/** Path parameters of routes under one version; the service parses the number. */
export const VersionParams = Type.Object({
  name: Type.String({ description: 'Registered model name.' }),
  version: Type.String({ description: 'Version number.' }),
});

/** A model version as it travels over the Kiln REST API: snake_case, version as a number. */
export type ModelVersionWire = Static<typeof ModelVersionSchema>;

/** A registered model over the Kiln REST API. */
export type RegisteredModelWire = Static<typeof RegisteredModelSchema>;

/** A version in wire form; absent run id and signature are omitted, not null. */
export function versionToWire(v: ModelVersion): ModelVersionWire {
  const wire: ModelVersionWire = {
    name: v.name,
    version: v.version,
    creation_timestamp: v.creationTimestamp,
    last_updated_timestamp: v.lastUpdatedTimestamp,
    user_id: v.userId,
    current_stage: v.currentStage,
    description: v.description,
    source: v.source,
    run_link: v.runLink,
    status: v.status,
    status_message: v.statusMessage,
    tags: v.tags.map(({ key, value }) => ({ key, value })),
    aliases: [...v.aliases],
  };
  if (v.runId !== undefined) wire.run_id = v.runId;
  if (v.signature !== undefined) {
    const { inputs, outputs } = v.signature;
    wire.signature = { inputs: [...inputs], ...(outputs === undefined ? {} : { outputs: [...outputs] }) };
  }
  return wire;
}

/** A registered model in wire form. */
export function modelToWire(m: RegisteredModel): RegisteredModelWire {
  return {
    name: m.name,
    description: m.description,
    creation_timestamp: m.creationTimestamp,
    last_updated_timestamp: m.lastUpdatedTimestamp,
    tags: m.tags.map(({ key, value }) => ({ key, value })),
    aliases: m.aliases.map(({ alias, version }) => ({ alias, version })),
    latest_versions: m.latestVersions.map(versionToWire),
  };
}

/** An event in wire form. */
export function eventToWire(e: RegistryEvent) {
  return {
    id: e.id,
    type: e.type,
    model: e.model,
    ...(e.version === undefined ? {} : { version: e.version }),
    ...(e.alias === undefined ? {} : { alias: e.alias }),
    payload: { ...e.payload },
    actor: e.actor,
    request_id: e.requestId,
    created_at: e.createdAt,
  };
}

/** `order_by` as a list, whether the query string repeated it or not. */
export function orderList(value: string | string[] | undefined): string[] | undefined {
  if (value === undefined) return undefined;
  return Array.isArray(value) ? value : [value];
}
