import { type FastifyPluginAsyncTypebox, Type } from '@fastify/type-provider-typebox';
import type { Lineage, LineageNode, LineageService } from './lineage.js';

const NodeSchema = Type.Object(
  {
    id: Type.String({ description: 'dataset:<name>@<version>, run:<run_id> or model:<name>@<version>.' }),
    type: Type.Union([Type.Literal('dataset_version'), Type.Literal('run'), Type.Literal('model_version')]),
  },
  { additionalProperties: true },
);

const LineageSchema = Type.Object({
  root: Type.String(),
  nodes: Type.Array(NodeSchema),
  edges: Type.Array(Type.Object({ from: Type.String(), to: Type.String(), role: Type.String() })),
  truncated: Type.Boolean(),
});

function nodeToWire(node: LineageNode): { id: string; type: LineageNode['type'] } & Record<string, unknown> {
  switch (node.type) {
    case 'dataset_version':
      return {
        id: node.id,
        type: node.type,
        dataset: node.dataset,
        version: node.version,
        digest: node.digest,
        source_kind: node.sourceKind,
        row_count: node.rowCount,
      };
    case 'run':
      return {
        id: node.id,
        type: node.type,
        run_id: node.runId,
        experiment_id: node.experimentId,
        run_name: node.runName,
        status: node.status,
      };
    case 'model_version':
      return {
        id: node.id,
        type: node.type,
        name: node.name,
        version: node.version,
        run_id: node.runId,
        stage: node.stage,
        aliases: node.aliases,
      };
  }
}

function lineageToWire(lineage: Lineage) {
  return {
    root: lineage.root,
    nodes: lineage.nodes.map(nodeToWire),
    edges: lineage.edges,
    truncated: lineage.truncated,
  };
}

/** What {@link lineageRoutes} is registered with. */
export interface LineageRoutesOptions {
  lineage: LineageService;
}

/**
 * `GET /api/v1/datasets/:name/versions/:version/lineage`: the lineage graph of a dataset version,
 * served by the registry because it spans data, tracking and the registry.
 *
 * @example
 * await app.register(lineageRoutes, { prefix: '/api/v1', lineage });
 */
export const lineageRoutes: FastifyPluginAsyncTypebox<LineageRoutesOptions> = async (app, { lineage }) => {
  app.get(
    '/datasets/:name/versions/:version/lineage',
    {
      config: { permission: 'read' },
      schema: {
        summary:
          'The lineage graph of a dataset version: source and derived versions, runs that read them, models they produced',
        tags: ['datasets'],
        params: Type.Object({ name: Type.String(), version: Type.Integer({ minimum: 1 }) }),
        response: { 200: Type.Object({ lineage: LineageSchema }) },
      },
    },
    async (request) => ({
      lineage: lineageToWire(await lineage.ofDatasetVersion(request.ctx, request.params.name, request.params.version)),
    }),
  );
};
