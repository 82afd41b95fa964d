import type { RequestContext } from '../core/index.js';
import type { DataLineage, DatasetService } from '../data/index.js';
import type { RunUsingDataset } from '../tracking/index.js';
import type { ModelVersion } from './model.js';
import type { RegistryService } from './service.js';

/** A node of the lineage graph: a dataset version, a run that read one, or a model version a run produced. */
export type LineageNode =
  | {
      id: string;
      type: 'dataset_version';
      dataset: string;
      version: number;
      digest: string;
      sourceKind: string;
      rowCount: number;
    }
  | { id: string; type: 'run'; runId: string; experimentId: string; runName: string; status: string }
  | {
      id: string;
      type: 'model_version';
      name: string;
      version: number;
      runId: string;
      stage: string;
      aliases: string[];
    };

/** A directed edge: `from` was used to make `to`; `role` says how (`sql`, `split:train`, `input:training`, `produced`). */
export interface LineageEdge {
  from: string;
  to: string;
  role: string;
}

/** Everything upstream and downstream of one dataset version, from data through runs to models. */
export interface Lineage {
  root: string;
  nodes: LineageNode[];
  edges: LineageEdge[];
  /** True when a limit cut the graph short. */
  truncated: boolean;
}

/** Where lineage reads from: the data, tracking and registry services, through the calls it needs. */
export interface LineageSources {
  datasets: Pick<DatasetService, 'lineage'>;
  runs: { usingDataset(ctx: RequestContext, digest: string, limit?: number): Promise<RunUsingDataset[]> };
  models: Pick<RegistryService, 'searchModelVersions'>;
}

/** Runs looked up per dataset version; a dataset read by more runs than this is reported truncated. */
const MAX_RUNS_PER_VERSION = 500;
/** Run ids per model-version search filter. */
const RUNS_PER_FILTER = 100;

export const datasetNodeId = (dataset: string, version: number) => `dataset:${dataset}@${version}`;
const runNodeId = (runId: string) => `run:${runId}`;
const modelNodeId = (name: string, version: number) => `model:${name}@${version}`;

/**
 * Answers "where did this data come from, and what was made from it?" for one dataset version:
 * the versions it was derived from, the versions derived from it, the runs that logged any of those
 * (the version itself or a descendant) as an input — matched by content digest, so a run logged
 * through the MLflow `log-inputs` API with the version's digest is found too — and the model
 * versions registered from those runs. Deployments join here when serving exists.
 *
 * @example
 * const lineage = await new LineageService({ datasets, runs: tracking.runs, models: registry })
 *   .ofDatasetVersion(ctx, 'flights', 3);
 * lineage.edges; // [{ from: 'dataset:flights@3', to: 'dataset:flights.train@1', role: 'split:train' }, …]
 */
export class LineageService {
  constructor(private readonly sources: LineageSources) {}

  async ofDatasetVersion(ctx: RequestContext, name: string, version: number): Promise<Lineage> {
    const data = await this.sources.datasets.lineage(ctx, name, version);
    const nodes = new Map<string, LineageNode>();
    const edges: LineageEdge[] = [];
    let truncated = data.truncated;
    for (const v of data.versions) {
      nodes.set(datasetNodeId(v.dataset, v.version), {
        id: datasetNodeId(v.dataset, v.version),
        type: 'dataset_version',
        dataset: v.dataset,
        version: v.version,
        digest: v.digest,
        sourceKind: v.sourceKind,
        rowCount: v.rowCount,
      });
    }
    for (const edge of data.edges) {
      edges.push({
        from: datasetNodeId(edge.from.dataset, edge.from.version),
        to: datasetNodeId(edge.to.dataset, edge.to.version),
        role: edge.role,
      });
    }
    const runIds = new Set<string>();
    for (const v of downstreamOf(data)) {
      const runs = await this.sources.runs.usingDataset(ctx, v.digest, MAX_RUNS_PER_VERSION);
      if (runs.length >= MAX_RUNS_PER_VERSION) truncated = true;
      for (const run of runs) {
        const id = runNodeId(run.runId);
        if (!nodes.has(id)) {
          nodes.set(id, {
            id,
            type: 'run',
            runId: run.runId,
            experimentId: run.experimentId,
            runName: run.runName,
            status: run.status,
          });
        }
        runIds.add(run.runId);
        edges.push({
          from: datasetNodeId(v.dataset, v.version),
          to: id,
          role: `input:${run.context ?? 'unspecified'}`,
        });
      }
    }
    for (const model of await this.modelsFrom(ctx, [...runIds])) {
      if (model.runId === undefined) continue;
      const id = modelNodeId(model.name, model.version);
      nodes.set(id, {
        id,
        type: 'model_version',
        name: model.name,
        version: model.version,
        runId: model.runId,
        stage: model.currentStage,
        aliases: [...model.aliases],
      });
      edges.push({ from: runNodeId(model.runId), to: id, role: 'produced' });
    }
    return { root: datasetNodeId(data.root.dataset, data.root.version), nodes: [...nodes.values()], edges, truncated };
  }

  private async modelsFrom(ctx: RequestContext, runIds: string[]): Promise<ModelVersion[]> {
    const found: ModelVersion[] = [];
    for (let i = 0; i < runIds.length; i += RUNS_PER_FILTER) {
      const ids = runIds.slice(i, i + RUNS_PER_FILTER).map((id) => `'${id.replaceAll("'", "''")}'`);
      let pageToken: string | undefined;
      do {
        const page = await this.sources.models.searchModelVersions(ctx, {
          filter: `run_id IN (${ids.join(', ')})`,
          maxResults: 1000,
          ...(pageToken === undefined ? {} : { pageToken }),
        });
        found.push(...page.items);
        pageToken = page.nextPageToken;
      } while (pageToken !== undefined);
    }
    return found;
  }
}

/** The root and every version reachable from it along derivation edges. */
function downstreamOf(data: DataLineage): DataLineage['versions'] {
  const byKey = new Map(data.versions.map((v) => [datasetNodeId(v.dataset, v.version), v]));
  const children = new Map<string, string[]>();
  for (const edge of data.edges) {
    const from = datasetNodeId(edge.from.dataset, edge.from.version);
    children.set(from, [...(children.get(from) ?? []), datasetNodeId(edge.to.dataset, edge.to.version)]);
  }
  const root = datasetNodeId(data.root.dataset, data.root.version);
  const seen = new Set([root]);
  const queue = [root];
  while (queue.length > 0) {
    for (const child of children.get(queue.shift() as string) ?? []) {
      if (!seen.has(child)) {
        seen.add(child);
        queue.push(child);
      }
    }
  }
  return [...seen].flatMap((key) => {
    const v = byKey.get(key);
    return v === undefined ? [] : [v];
  });
}
