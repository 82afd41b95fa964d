import type { PredictorOutput, ShadowComparison } from '../types.js';
import { LatencyReservoir } from './reservoir.js';

/**
 * Running comparison of one shadow target against the answers actually returned: label agreement
 * for classifiers, mean and max absolute difference for regressors and for class probabilities
 * (matched by class label, so a challenger that orders its classes differently still compares),
 * and the latency of both sides. Kept as sums so memory stays constant however long it runs.
 *
 * @example
 * const tracker = new ShadowTracker(Date.now());
 * tracker.compare(primaryOutput, ['a', 'b'], shadowOutput, ['a', 'b'], 0.4, 0.6);
 * tracker.comparison('churn', '4').labelAgreement; // 0.98
 */
export class ShadowTracker {
  #mirrored = 0;
  #errors = 0;
  #labelRows = 0;
  #agreeing = 0;
  #diffs = 0;
  #diffSum = 0;
  #diffMax = 0;
  readonly #primaryLatency = new LatencyReservoir(512);
  readonly #shadowLatency = new LatencyReservoir(512);

  /** `since`: epoch ms the comparison started. */
  constructor(readonly since: number) {}

  /** Adds one mirrored request whose shadow answered. */
  compare(
    primary: PredictorOutput,
    primaryClasses: readonly string[] | undefined,
    shadow: PredictorOutput,
    shadowClasses: readonly string[] | undefined,
    primaryMs: number,
    shadowMs: number,
  ): void {
    const rows = primary.prediction.length;
    if (shadow.prediction.length !== rows) {
      this.failed(primaryMs);
      return;
    }
    this.#mirrored++;
    this.#primaryLatency.record(primaryMs);
    this.#shadowLatency.record(shadowMs);
    const a = primary.prediction;
    const b = shadow.prediction;
    if (a instanceof Float64Array && b instanceof Float64Array) {
      for (let i = 0; i < rows; i++) this.#diff(Math.abs((a[i] as number) - (b[i] as number)));
    } else {
      for (let i = 0; i < rows; i++) if (String(a[i]) === String(b[i])) this.#agreeing++;
      this.#labelRows += rows;
    }
    if (primary.probabilities !== undefined && shadow.probabilities !== undefined && primaryClasses && shadowClasses) {
      this.#compareProbabilities(primary.probabilities, primaryClasses, shadow.probabilities, shadowClasses, rows);
    }
  }

  /** Adds one mirrored request whose shadow failed (threw, timed out, refused the input). */
  failed(primaryMs: number): void {
    this.#mirrored++;
    this.#errors++;
    this.#primaryLatency.record(primaryMs);
  }

  #compareProbabilities(
    p: Float64Array,
    pClasses: readonly string[],
    q: Float64Array,
    qClasses: readonly string[],
    rows: number,
  ): void {
    const k = pClasses.length;
    const m = qClasses.length;
    for (let c = 0; c < k; c++) {
      const j = qClasses.indexOf(pClasses[c] as string);
      if (j < 0) continue;
      for (let r = 0; r < rows; r++) this.#diff(Math.abs((p[r * k + c] as number) - (q[r * m + j] as number)));
    }
  }

  #diff(d: number): void {
    if (Number.isNaN(d)) return;
    this.#diffs++;
    this.#diffSum += d;
    if (d > this.#diffMax) this.#diffMax = d;
  }

  /** The figures so far, for the shadow report. */
  comparison(shadow: string, shadowVersion: string): ShadowComparison {
    const result: ShadowComparison = {
      shadow,
      shadowVersion,
      mirrored: this.#mirrored,
      shadowErrors: this.#errors,
      primaryLatencyMs: this.#primaryLatency.percentiles(),
      shadowLatencyMs: this.#shadowLatency.percentiles(),
    };
    if (this.#labelRows > 0) result.labelAgreement = this.#agreeing / this.#labelRows;
    if (this.#diffs > 0) {
      result.meanAbsDiff = this.#diffSum / this.#diffs;
      result.maxAbsDiff = this.#diffMax;
    }
    return result;
  }
}
