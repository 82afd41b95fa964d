import type { Metric, Registry } from 'prom-client';

/**
 * How a request ended, the `outcome` label: answered, refused as bad input (4xx), shed because the
 * queue was full (503), over its time limit (504), or failed in the model or the server.
 */
export const OUTCOMES = ['success', 'invalid', 'rejected', 'timeout', 'error'] as const;
export type Outcome = (typeof OUTCOMES)[number];

/** Indexes into a series' per-outcome counters. */
export const OUTCOME = { success: 0, invalid: 1, rejected: 2, timeout: 3, error: 4 } as const satisfies Record<
  Outcome,
  number
>;

/** Upper bounds (seconds) of the serving latency histogram: from 0.25 ms, since a tree model answers in well under 1 ms. */
export const SERVING_DURATION_BUCKETS: readonly number[] = [
  0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
];

/** Upper bounds (rows) of the batch size histogram, powers of two as BentoML and Triton report them. */
export const BATCH_SIZE_BUCKETS: readonly number[] = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096, 8192];

/** Labels shared by every per-version series. */
export type VersionLabels = {
  workspace: string;
  deployment: string;
  version: string;
};

/** Counts of one (deployment, version, role), per protocol and outcome; recording is a lookup and an add. */
export class RequestSeries {
  readonly #byProtocol = new Map<string, Float64Array>();

  constructor(readonly labels: VersionLabels & { role: string }) {}

  count(protocol: string, outcome: number): void {
    let counts = this.#byProtocol.get(protocol);
    if (counts === undefined) {
      counts = new Float64Array(OUTCOMES.length);
      this.#byProtocol.set(protocol, counts);
    }
    counts[outcome] = (counts[outcome] as number) + 1;
  }

  /** The count of one protocol and outcome (for tests and status). */
  get(protocol: string, outcome: Outcome): number {
    return this.#byProtocol.get(protocol)?.[OUTCOME[outcome]] ?? 0;
  }

  samples(into: Sample[]): void {
    for (const [protocol, counts] of this.#byProtocol) {
      for (let i = 0; i < OUTCOMES.length; i++) {
        const value = counts[i] as number;
        if (value > 0) into.push({ labels: { ...this.labels, protocol, outcome: OUTCOMES[i] as string }, value });
      }
    }
  }
}

/** A histogram kept as plain per-bucket counts, turned into cumulative samples only at scrape time. */
export class HistogramSeries {
  readonly #counts: Float64Array;
  #sum = 0;
  #total = 0;

  constructor(
    readonly labels: VersionLabels,
    private readonly bounds: readonly number[],
  ) {
    this.#counts = new Float64Array(bounds.length + 1);
  }

  observe(value: number): void {
    const bounds = this.bounds;
    let i = 0;
    while (i < bounds.length && value > (bounds[i] as number)) i++;
    this.#counts[i] = (this.#counts[i] as number) + 1;
    this.#sum += value;
    this.#total++;
  }

  get count(): number {
    return this.#total;
  }

  samples(name: string, into: Sample[]): void {
    let cumulative = 0;
    for (let i = 0; i <= this.bounds.length; i++) {
      cumulative += this.#counts[i] as number;
      const le = this.bounds[i] ?? '+Inf';
      into.push({ metricName: `${name}_bucket`, labels: { ...this.labels, le }, value: cumulative });
    }
    into.push({ metricName: `${name}_sum`, labels: this.labels, value: this.#sum });
    into.push({ metricName: `${name}_count`, labels: this.labels, value: this.#total });
  }
}

/** What the gauges read at scrape time: every live target of every deployment. */
export interface LiveGauge {
  labels: VersionLabels;
  queueDepth: number;
  inFlight: number;
}

/** One sample as prom-client's registry formats it. */
interface Sample {
  metricName?: string;
  labels: Record<string, string | number>;
  value: number;
}

/** The part of prom-client's metric contract its registry calls when formatting. */
interface CustomMetric {
  name: string;
  help: string;
  type: 'counter' | 'histogram' | 'gauge';
  aggregator: 'sum';
  get(): Promise<{ name: string; help: string; type: string; aggregator: 'sum'; values: Sample[] }>;
  reset(): void;
}

/** Where the gauges and the drop counter read their live values. */
export interface ServingMetricSources {
  live(): Iterable<LiveGauge>;
  /** Prediction records lost so far (sink full or failing). */
  dropped(): number;
}

/**
 * The serving runtime's Prometheus series on the registry it is given:
 *
 * - `kiln_serving_requests_total{workspace,deployment,version,role,protocol,outcome}`
 * - `kiln_serving_request_duration_seconds{workspace,deployment,version}` (histogram from 0.25 ms)
 * - `kiln_serving_batch_size{workspace,deployment,version}` (rows per predict call, histogram)
 * - `kiln_serving_queue_depth` and `kiln_serving_in_flight{workspace,deployment,version}` (gauges)
 * - `kiln_serving_predictions_dropped_total` (prediction records the log could not take)
 *
 * Counters live in plain objects that the request path holds directly (a target keeps its series),
 * and samples are built only when Prometheus scrapes: prom-client's own metric classes hash the
 * label set on every call, which on a one-row predict would cost more than the model. Series are
 * kept after a version stops serving so that counters never go backwards.
 *
 * @example
 * const metrics = new ServingMetrics(registry, { live: () => [], dropped: () => 0 });
 * metrics.requests({ workspace: 'default', deployment: 'churn', version: '3', role: 'primary' }).count('kiln', OUTCOME.success);
 */
export class ServingMetrics {
  readonly #requests = new Map<string, RequestSeries>();
  readonly #durations = new Map<string, HistogramSeries>();
  readonly #batches = new Map<string, HistogramSeries>();

  constructor(registry: Registry, sources: ServingMetricSources) {
    const metrics: CustomMetric[] = [
      counter(
        'kiln_serving_requests_total',
        'Inference requests by deployment, version, role, protocol and outcome.',
        () => {
          const values: Sample[] = [];
          for (const series of this.#requests.values()) series.samples(values);
          return values;
        },
      ),
      histogram(
        'kiln_serving_request_duration_seconds',
        'Time from admitting an inference request to its answer (queue wait included), by deployment and version.',
        this.#durations,
      ),
      histogram('kiln_serving_batch_size', 'Rows per predict call, by deployment and version.', this.#batches),
      gauge('kiln_serving_queue_depth', 'Requests waiting for a micro-batch, by deployment and version.', () =>
        gaugeSamples(sources.live(), 'queueDepth'),
      ),
      gauge('kiln_serving_in_flight', 'Requests being predicted now, by deployment and version.', () =>
        gaugeSamples(sources.live(), 'inFlight'),
      ),
      counter('kiln_serving_predictions_dropped_total', 'Prediction log records dropped (log full or failing).', () => [
        { labels: {}, value: sources.dropped() },
      ]),
    ];
    // prom-client types its registry as taking its own metric classes, but only calls the members
    // CustomMetric declares.
    for (const metric of metrics) registry.registerMetric(metric as unknown as Metric);
  }

  /** The request counters of one deployment version in one role (created on first use). */
  requests(labels: VersionLabels & { role: string }): RequestSeries {
    const key = `${labels.workspace}\0${labels.deployment}\0${labels.version}\0${labels.role}`;
    let series = this.#requests.get(key);
    if (series === undefined) {
      series = new RequestSeries({ ...labels });
      this.#requests.set(key, series);
    }
    return series;
  }

  /** The latency histogram (seconds) of one deployment version. */
  duration(labels: VersionLabels): HistogramSeries {
    return seriesOf(this.#durations, labels, SERVING_DURATION_BUCKETS);
  }

  /** The batch size histogram (rows) of one deployment version. */
  batchSize(labels: VersionLabels): HistogramSeries {
    return seriesOf(this.#batches, labels, BATCH_SIZE_BUCKETS);
  }
}

function seriesOf(
  map: Map<string, HistogramSeries>,
  labels: VersionLabels,
  bounds: readonly number[],
): HistogramSeries {
  const key = `${labels.workspace}\0${labels.deployment}\0${labels.version}`;
  let series = map.get(key);
  if (series === undefined) {
    series = new HistogramSeries(
      { workspace: labels.workspace, deployment: labels.deployment, version: labels.version },
      bounds,
    );
    map.set(key, series);
  }
  return series;
}

function gaugeSamples(live: Iterable<LiveGauge>, field: 'queueDepth' | 'inFlight'): Sample[] {
  const sums = new Map<string, Sample>();
  for (const entry of live) {
    const key = `${entry.labels.workspace}\0${entry.labels.deployment}\0${entry.labels.version}`;
    const sample = sums.get(key);
    if (sample === undefined) sums.set(key, { labels: { ...entry.labels }, value: entry[field] });
    else sample.value += entry[field];
  }
  return [...sums.values()];
}

function counter(name: string, help: string, values: () => Sample[]): CustomMetric {
  return custom(name, help, 'counter', values);
}

function gauge(name: string, help: string, values: () => Sample[]): CustomMetric {
  return custom(name, help, 'gauge', values);
}

function histogram(name: string, help: string, series: Map<string, HistogramSeries>): CustomMetric {
  return custom(name, help, 'histogram', () => {
    const values: Sample[] = [];
    for (const s of series.values()) s.samples(name, values);
    return values;
  });
}

function custom(name: string, help: string, type: CustomMetric['type'], values: () => Sample[]): CustomMetric {
  return {
    name,
    help,
    type,
    aggregator: 'sum',
    get: async () => ({ name, help, type, aggregator: 'sum', values: values() }),
    // Counters must not go backwards while the runtime lives; resetting the registry is a test aid
    // that the series here ignore.
    reset: () => {},
  };
}
