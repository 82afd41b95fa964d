import type { DatasetVersion } from './model.js';

/**
 * What made a version that a Kiln job or step wrote (source kind `step`), kept as JSON in the
 * version's `source`. Lineage edges only link dataset versions to dataset versions; a version made
 * by applying a model (batch scoring) records the model here, so the registry's lineage and a
 * person reading the version can follow "scored by models:/flights/3" without a new table.
 *
 * @example
 * stepSource({ step: 'predict', job: 'score-ab12', model: { name: 'flights', version: 3 } });
 * // '{"step":"predict","job":"score-ab12","model":{"name":"flights","version":3}}'
 */
export interface StepProvenance {
  /** What ran: `predict` for batch scoring; a pipeline step's name later. */
  step: string;
  /** The job that ran it, to find its record (`GET /api/v1/scoring-jobs/<job>`). */
  job?: string;
  /** The registered model version it applied. */
  model?: { name: string; version: number };
  /** Anything else worth keeping about the run, e.g. `{ chunkRows: 50000 }`. */
  params?: Record<string, string | number | boolean>;
}

/** The `source` text of a version written by a step: its provenance as JSON. */
export function stepSource(provenance: StepProvenance): string {
  return JSON.stringify(provenance);
}

/**
 * The provenance of a version a step wrote, or undefined for other versions (ingested files, SQL
 * derives, splits) and for a `source` that is not provenance JSON.
 *
 * @example
 * stepProvenance(await datasets.getVersion(ctx, 'scored', 1))?.model; // { name: 'flights', version: 3 }
 */
export function stepProvenance(version: Pick<DatasetVersion, 'sourceKind' | 'source'>): StepProvenance | undefined {
  if (version.sourceKind !== 'step') return undefined;
  try {
    const parsed: unknown = JSON.parse(version.source);
    if (typeof parsed !== 'object' || parsed === null || typeof (parsed as StepProvenance).step !== 'string') {
      return undefined;
    }
    return parsed as StepProvenance;
  } catch {
    return undefined;
  }
}
