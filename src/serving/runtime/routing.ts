/**
 * Traffic splitting: weights become bucket ranges over 0–9999 (a resolution of 0.01 %), and a
 * request's bucket comes from a stable hash of its routing key (sticky) or from a fast seeded
 * random draw. Kept free of serving state so the split can be tested on its own.
 */

/** Buckets a request can land in; a weight of w % owns w × 100 of them. */
export const ROUTE_BUCKETS = 10_000;

/**
 * The bucket (0–9999) of a routing key: FNV-1a over the key's UTF-16 code units, mixed with
 * MurmurHash3's finaliser so that keys differing in one character spread over all buckets. The
 * same key and salt always give the same bucket, in every process and on every replica, which is
 * what makes canary and A/B routing sticky without shared state. A different `salt` gives an
 * independent draw (shadow mirroring uses one per shadow so it does not follow the canary split).
 *
 * @example
 * stableBucket('customer-42') === stableBucket('customer-42'); // always
 */
export function stableBucket(key: string, salt = 0): number {
  let h = (0x811c9dc5 ^ salt) >>> 0;
  for (let i = 0; i < key.length; i++) {
    h ^= key.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return (h >>> 0) % ROUTE_BUCKETS;
}

/**
 * A small, fast pseudo-random source (xorshift32) for requests without a routing key. Seeded so
 * that tests and benchmarks can replay a split; `Math.random` would do, but this costs a few
 * integer operations and no call into the engine's generator.
 *
 * @example
 * const random = new FastRandom(7);
 * random.bucket(); // 0–9999
 */
export class FastRandom {
  #state: number;

  constructor(seed: number = Date.now() ^ (Math.random() * 0x100000000)) {
    // A zero state would stay zero forever.
    this.#state = seed >>> 0 || 0x9e3779b9;
  }

  /** The next 32-bit unsigned value. */
  next(): number {
    let x = this.#state;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.#state = x >>> 0;
    return this.#state;
  }

  /** A bucket in 0–9999. */
  bucket(): number {
    return this.next() % ROUTE_BUCKETS;
  }

  /** A number in [0, 1). */
  unit(): number {
    return this.next() / 0x100000000;
  }
}

/** One choice of a weighted split: what to route to, and its percentage of traffic. */
export interface WeightedChoice<T> {
  value: T;
  /** Percentage, 0–100; fractions down to 0.01 are honoured. */
  weight: number;
}

/**
 * A weighted split over the 10,000 buckets: choice i owns the buckets from the sum of the weights
 * before it up to that sum plus its own. Picking is a scan of a handful of upper bounds (a
 * deployment has two to a few targets), so it allocates nothing.
 *
 * @example
 * const split = new WeightedSplit([{ value: 'canary', weight: 10 }, { value: 'primary', weight: 90 }]);
 * split.pick(stableBucket('user-1')); // 'canary' for 10 % of keys
 */
export class WeightedSplit<T> {
  readonly #values: T[];
  readonly #upper: Int32Array;

  /** `choices` must be non-empty; weights are normalised so that their sum owns every bucket. */
  constructor(choices: readonly WeightedChoice<T>[]) {
    if (choices.length === 0) throw new Error('a weighted split needs at least one choice');
    const total = choices.reduce((sum, c) => sum + Math.max(0, c.weight), 0);
    this.#values = choices.map((c) => c.value);
    this.#upper = new Int32Array(choices.length);
    let cumulative = 0;
    for (let i = 0; i < choices.length; i++) {
      cumulative += Math.max(0, (choices[i] as WeightedChoice<T>).weight);
      this.#upper[i] = total > 0 ? Math.round((cumulative / total) * ROUTE_BUCKETS) : ROUTE_BUCKETS;
    }
    this.#upper[choices.length - 1] = ROUTE_BUCKETS;
  }

  /** The choice owning `bucket` (0–9999). */
  pick(bucket: number): T {
    const upper = this.#upper;
    for (let i = 0; i < upper.length; i++) {
      if (bucket < (upper[i] as number)) return this.#values[i] as T;
    }
    return this.#values[this.#values.length - 1] as T;
  }
}

/** The bucket threshold of a percentage: a bucket below it is in (mirrored, sampled). */
export function bucketThreshold(percent: number): number {
  return Math.round(Math.min(100, Math.max(0, percent)) * (ROUTE_BUCKETS / 100));
}
