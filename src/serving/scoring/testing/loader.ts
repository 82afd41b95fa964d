import type { RequestContext } from '../../../core/index.js';
import { type TrainedModel, writeModelPackage } from '../../../learn/index.js';
import type { LoadedModel, ModelLoader, ModelRef, Predictor } from '../../types.js';
import type { ScoringHarness } from './harness.js';

/**
 * Stores `model` as a Kiln package in a tracked run's artifacts and registers it as the next
 * version of `name` (source `runs:/<run>/model`), as a training job with `register` does; with
 * `alias`, points the alias at it. Answers the version number.
 *
 * @example
 * await registerModel(h, 'penguins', result.model, 'champion'); // 1
 */
export async function registerModel(
  h: Pick<ScoringHarness, 'tracking' | 'artifacts' | 'registry' | 'ctx'>,
  name: string,
  model: TrainedModel,
  alias?: string,
): Promise<number> {
  const { ctx } = h;
  const experiment = await h.tracking.experiments.getOrCreateByName(ctx, 'scoring-tests');
  const run = await h.tracking.runs.create(ctx, { experimentId: experiment.experimentId });
  const runId = run.info.runId;
  for (const [file, bytes] of writeModelPackage(model)) await h.artifacts.put(ctx, runId, `model/${file}`, bytes);
  await h.tracking.runs.update(ctx, runId, { status: 'FINISHED', endTime: Date.now() });
  await h.registry.getOrCreateRegisteredModel(ctx, name);
  const version = await h.registry.createModelVersion(ctx, { name, source: `runs:/${runId}/model`, runId });
  if (alias !== undefined) await h.registry.setAlias(ctx, name, alias, version.version);
  return Number(version.version);
}

/**
 * A {@link ModelLoader} in front of a real one that can put a test's predictor in front of each
 * loaded model (a fault on the nth chunk) and keeps every predictor it handed out, so a test can
 * check they were all closed.
 *
 * @example
 * const loader = new InterceptingLoader(new RegistryModelLoader({ registry, artifacts, blobs }));
 * loader.wrap = (predictor) => failingOn(predictor, 3);
 */
export class InterceptingLoader implements ModelLoader {
  /** Predictors handed out so far. */
  readonly loaded: Predictor[] = [];
  wrap: ((predictor: Predictor) => Predictor) | undefined;

  constructor(private readonly inner: ModelLoader) {}

  resolve(ctx: RequestContext, ref: ModelRef): Promise<ModelRef> {
    return this.inner.resolve(ctx, ref);
  }

  async load(ctx: RequestContext, ref: ModelRef): Promise<LoadedModel> {
    const loaded = await this.inner.load(ctx, ref);
    const predictor = this.wrap === undefined ? loaded.predictor : this.wrap(loaded.predictor);
    this.loaded.push(predictor);
    return { ...loaded, predictor };
  }
}
