/**
 * Test doubles for the serving runtime: a {@link ModelLoader} over trained models held in memory,
 * a {@link Predictor} that answers with `predictModel` (so answers are a real model's) and can be
 * slowed, gated or made to fail, and an alias event source the test moves by hand.
 */
import { KilnError, type RequestContext } from '../../../core/index.js';
import { type Frame, predictModel, type Task, type TrainedModel } from '../../../learn/index.js';
import type { LoadedModel, ModelLoader, ModelRef, Predictor, PredictorOutput, ServingInput } from '../../types.js';
import type { AliasEvent, AliasEventSource } from '../alias-events.js';

/** How a {@link MemoryPredictor} misbehaves; changed at any time. */
export interface PredictBehaviour {
  /** Wait this long (ms) before answering, so requests overlap. */
  delayMs?: number;
  /** Every predict rejects with this message. */
  fail?: string;
  /** Predicts wait until this resolves. */
  gate?: Promise<void>;
}

/** The inputs of a trained model: each signature column as the frame kind its preprocessing was fitted on. */
function inputsOf(model: TrainedModel): ServingInput[] {
  const fitted = new Map(model.preprocessing.columns.map((c) => [c.name, c.input]));
  return model.signature.inputs.map((input) => ({
    name: input.name,
    kind:
      fitted.get(input.name) ??
      (input.type === 'float' || input.type === 'integer'
        ? 'float'
        : input.type === 'datetime'
          ? 'datetime'
          : 'categorical'),
    type: input.type,
    nullable: true,
  }));
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** A predictor over `predictModel` that records what it was asked and can be slowed or broken. */
export class MemoryPredictor implements Predictor {
  readonly flavour = 'kiln' as const;
  readonly task: Task;
  readonly inputs: readonly ServingInput[];
  readonly classes?: readonly string[];
  readonly signature: TrainedModel['signature'];
  /** Rows per predict call, in call order. */
  readonly calls: number[] = [];
  /** Predicts running now. */
  running = 0;
  closed = false;
  /** Predicts that arrived after close: must stay 0 when the runtime drains before closing. */
  afterClose = 0;

  constructor(
    readonly model: TrainedModel,
    public behaviour: PredictBehaviour = {},
  ) {
    this.task = model.task;
    this.inputs = inputsOf(model);
    if (model.classes !== undefined) this.classes = model.classes;
    this.signature = model.signature;
  }

  async predict(frame: Frame): Promise<PredictorOutput> {
    if (this.closed) {
      this.afterClose++;
      throw new KilnError('INVALID_STATE', 'predict after close');
    }
    this.calls.push(frame.rows);
    this.running++;
    try {
      const { gate, delayMs, fail } = this.behaviour;
      if (gate !== undefined) await gate;
      if (delayMs !== undefined) await sleep(delayMs);
      if (fail !== undefined) throw new Error(fail);
      if (this.closed) {
        this.afterClose++;
        throw new KilnError('INVALID_STATE', 'closed while predicting');
      }
      const { prediction, probabilities } = predictModel(this.model, frame);
      return probabilities === undefined ? { prediction } : { prediction, probabilities };
    } finally {
      this.running--;
    }
  }

  async close(): Promise<void> {
    this.closed = true;
  }
}

interface Registered {
  model: TrainedModel;
  behaviour: PredictBehaviour;
  /** Loads of this version throw this. */
  loadError?: Error;
  /** Loads wait for this. */
  loadGate?: Promise<void>;
}

/**
 * A {@link ModelLoader} over models registered in memory as `models:/name/<version>`, with aliases.
 * Every load makes a new {@link MemoryPredictor}, listed in `predictors` for assertions.
 *
 * @example
 * const loader = new MemoryModelLoader();
 * loader.register('penguins', 1, gbdtModel);
 * loader.setAlias('penguins', 'champion', 1);
 */
export class MemoryModelLoader implements ModelLoader {
  readonly #models = new Map<string, Registered>();
  readonly #aliases = new Map<string, number>();
  /** Every predictor loaded, in load order, with the version it serves. */
  readonly predictors: { name: string; version: number; predictor: MemoryPredictor }[] = [];

  register(name: string, version: number, model: TrainedModel, behaviour: PredictBehaviour = {}): void {
    this.#models.set(`${name}/${version}`, { model, behaviour });
  }

  setAlias(name: string, alias: string, version: number): void {
    this.#aliases.set(`${name}@${alias}`, version);
  }

  deleteAlias(name: string, alias: string): void {
    this.#aliases.delete(`${name}@${alias}`);
  }

  /** Makes loads of a version fail (undefined: succeed again). */
  failLoads(name: string, version: number, error: Error | undefined): void {
    const entry = this.#get(name, version);
    if (error === undefined) delete entry.loadError;
    else entry.loadError = error;
  }

  /** Makes loads of a version wait for `gate`. */
  gateLoads(name: string, version: number, gate: Promise<void> | undefined): void {
    const entry = this.#get(name, version);
    if (gate === undefined) delete entry.loadGate;
    else entry.loadGate = gate;
  }

  /** The predictors loaded for one version. */
  loadedFor(name: string, version: number): MemoryPredictor[] {
    return this.predictors.filter((p) => p.name === name && p.version === version).map((p) => p.predictor);
  }

  async resolve(_ctx: RequestContext, ref: ModelRef): Promise<ModelRef> {
    if (ref.kind !== 'alias') return ref;
    const version = this.#aliases.get(`${ref.name}@${ref.alias}`);
    if (version === undefined) {
      throw new KilnError('RESOURCE_DOES_NOT_EXIST', `Registered model '${ref.name}' has no alias '${ref.alias}'`);
    }
    return { kind: 'version', name: ref.name, version };
  }

  async load(ctx: RequestContext, ref: ModelRef): Promise<LoadedModel> {
    const resolved = await this.resolve(ctx, ref);
    if (resolved.kind !== 'version') throw new KilnError('INVALID_PARAMETER_VALUE', 'paths are not served in memory');
    const entry = this.#get(resolved.name, resolved.version);
    if (entry.loadGate !== undefined) await entry.loadGate;
    if (entry.loadError !== undefined) throw entry.loadError;
    const predictor = new MemoryPredictor(entry.model, entry.behaviour);
    this.predictors.push({ name: resolved.name, version: resolved.version, predictor });
    return { name: resolved.name, version: String(resolved.version), flavour: 'kiln', predictor, sizeBytes: 0 };
  }

  #get(name: string, version: number): Registered {
    const entry = this.#models.get(`${name}/${version}`);
    if (entry === undefined) {
      throw new KilnError('RESOURCE_DOES_NOT_EXIST', `Model version '${name}' version ${version} does not exist`);
    }
    return entry;
  }
}

/** An {@link AliasEventSource} a test fires by hand. */
export class ManualAliasEvents implements AliasEventSource {
  readonly #listeners = new Set<(event: AliasEvent) => void>();

  subscribe(listener: (event: AliasEvent) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  emit(event: AliasEvent): void {
    for (const listener of this.#listeners) listener(event);
  }
}
