import type { DatasetVersion, DerivedVersion, SourceKind } from './model.js';

/** A node of the data part of lineage: one dataset version. */
export interface LineageVersion {
  dataset: string;
  version: number;
  digest: string;
  sourceKind: SourceKind;
  rowCount: number;
}

/** The versions a version came from and those made from it, as a graph of `dataset@version` edges. */
export interface DataLineage {
  root: { dataset: string; version: number };
  versions: LineageVersion[];
  edges: { from: { dataset: string; version: number }; to: { dataset: string; version: number }; role: string }[];
  /** True when the graph reached the node limit and was cut. */
  truncated: boolean;
}

/** How the walk reads the graph: a version by name and number, and the versions derived from one. */
export interface LineageLookups {
  version(dataset: string, version: number): Promise<DatasetVersion>;
  derived(dataset: string, version: number): Promise<DerivedVersion[]>;
}

/** Most nodes a lineage answer carries; a pathological graph is cut there. */
export const MAX_LINEAGE_NODES = 1000;

/**
 * Walks from `root` upstream along each version's inputs (to the files they were ingested from)
 * and downstream along the versions derived from it, breadth first, each node once.
 *
 * @example
 * const lineage = await walkLineage(v3, { version: …, derived: … });
 * lineage.edges; // [{ from: { dataset: 'flights', version: 3 }, to: { dataset: 'flights.train', version: 1 }, role: 'split:train' }]
 */
export async function walkLineage(root: DatasetVersion, lookups: LineageLookups): Promise<DataLineage> {
  const nodes = new Map<string, LineageVersion>();
  const edges: DataLineage['edges'] = [];
  const key = (dataset: string, v: number) => `${dataset}@${v}`;
  const visit = (v: DatasetVersion) =>
    nodes.set(key(v.datasetName, v.version), {
      dataset: v.datasetName,
      version: v.version,
      digest: v.digest,
      sourceKind: v.sourceKind,
      rowCount: v.rowCount,
    });
  visit(root);
  const walk = async (direction: 'up' | 'down') => {
    const queue = [root];
    while (queue.length > 0 && nodes.size < MAX_LINEAGE_NODES) {
      const current = queue.shift() as DatasetVersion;
      const here = { dataset: current.datasetName, version: current.version };
      const neighbours =
        direction === 'up' ? current.inputs : await lookups.derived(current.datasetName, current.version);
      for (const neighbour of neighbours) {
        const there = { dataset: neighbour.dataset, version: neighbour.version };
        const [from, to] = direction === 'up' ? [there, here] : [here, there];
        edges.push({ from, to, role: neighbour.role });
        if (nodes.has(key(there.dataset, there.version))) continue;
        const next = await lookups.version(there.dataset, there.version);
        visit(next);
        queue.push(next);
      }
    }
  };
  await walk('up');
  await walk('down');
  return {
    root: { dataset: root.datasetName, version: root.version },
    versions: [...nodes.values()],
    edges,
    truncated: nodes.size >= MAX_LINEAGE_NODES,
  };
}
