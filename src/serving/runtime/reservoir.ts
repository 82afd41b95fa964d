/**
 * The most recent latencies of a target, in a fixed ring, for the p50 / p99 that status and the
 * shadow report show. Recording is one store into a typed array; the sort happens only when
 * someone asks for the percentiles, so the request path never pays for it.
 *
 * @example
 * const latency = new LatencyReservoir();
 * latency.record(1.8);
 * latency.percentiles(); // { p50: 1.8, p99: 1.8 }
 */
export class LatencyReservoir {
  readonly #values: Float64Array;
  #next = 0;
  #filled = 0;

  /** Keeps the last `capacity` observations (default 1024). */
  constructor(capacity = 1024) {
    this.#values = new Float64Array(capacity);
  }

  record(ms: number): void {
    this.#values[this.#next] = ms;
    this.#next = this.#next + 1 === this.#values.length ? 0 : this.#next + 1;
    if (this.#filled < this.#values.length) this.#filled++;
  }

  /** Observations held now (at most the capacity). */
  get size(): number {
    return this.#filled;
  }

  /** Nearest-rank p50 and p99 of the held observations, in ms; zeros when there are none. */
  percentiles(): { p50: number; p99: number } {
    if (this.#filled === 0) return { p50: 0, p99: 0 };
    const sorted = this.#values.slice(0, this.#filled).sort();
    return { p50: nearestRank(sorted, 0.5), p99: nearestRank(sorted, 0.99) };
  }
}

function nearestRank(sorted: Float64Array, q: number): number {
  const rank = Math.max(1, Math.ceil(q * sorted.length));
  return sorted[rank - 1] as number;
}
