import type { Metric, Registry } from 'prom-client';

/** Upper bounds (seconds) of the request duration histogram's buckets. */
export const DURATION_BUCKETS: readonly number[] = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

interface DurationSeries {
  readonly labels: { method: string; route: string };
  /** Observations per bucket, not cumulative; the last slot is +Inf. */
  readonly buckets: Float64Array;
  count: number;
  sum: number;
}

interface RequestSeries {
  readonly labels: { method: string; route: string; status_code: string };
  count: number;
  readonly duration: DurationSeries;
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
  type: 'counter' | 'histogram';
  aggregator: 'sum';
  get(): Promise<{ name: string; help: string; type: string; aggregator: 'sum'; values: Sample[] }>;
  reset(): void;
}

/**
 * `kiln_http_requests_total{method,route,status_code}` and
 * `kiln_http_request_duration_seconds{method,route}`, kept as plain numbers per series and turned
 * into samples only when Prometheus scrapes. prom-client's own Counter and Histogram hash their
 * labels on every call; on the hottest path (a liveness probe answered in microseconds) that was
 * the largest cost Kiln added to a request, so recording here is one map lookup and a few adds.
 *
 * @example
 * const http = new HttpMetrics(registry);
 * http.record('GET', '/api/v1/workspaces/:name', 200, 0.0021);
 */
export class HttpMetrics {
  private readonly requests = new Map<string, RequestSeries>();
  private readonly durations = new Map<string, DurationSeries>();

  constructor(registry: Registry) {
    // prom-client types its registry as taking its own metric classes, but only calls the
    // members CustomMetric declares.
    registry.registerMetric(this.requestsMetric() as unknown as Metric);
    registry.registerMetric(this.durationMetric() as unknown as Metric);
  }

  record(method: string, route: string, status: number, seconds: number): void {
    const key = `${method} ${status} ${route}`;
    let series = this.requests.get(key);
    if (series === undefined) {
      series = {
        labels: { method, route, status_code: String(status) },
        count: 0,
        duration: this.durationFor(method, route),
      };
      this.requests.set(key, series);
    }
    series.count += 1;
    const duration = series.duration;
    duration.count += 1;
    duration.sum += seconds;
    let bucket = 0;
    while (bucket < DURATION_BUCKETS.length && seconds > (DURATION_BUCKETS[bucket] ?? 0)) bucket++;
    duration.buckets[bucket] = (duration.buckets[bucket] ?? 0) + 1;
  }

  private durationFor(method: string, route: string): DurationSeries {
    const key = `${method} ${route}`;
    let series = this.durations.get(key);
    if (series === undefined) {
      series = { labels: { method, route }, buckets: new Float64Array(DURATION_BUCKETS.length + 1), count: 0, sum: 0 };
      this.durations.set(key, series);
    }
    return series;
  }

  private requestsMetric(): CustomMetric {
    const name = 'kiln_http_requests_total';
    const help = 'HTTP requests answered, by method, route template and status code.';
    return {
      name,
      help,
      type: 'counter',
      aggregator: 'sum',
      get: async () => ({
        name,
        help,
        type: 'counter',
        aggregator: 'sum',
        values: [...this.requests.values()].map((s) => ({ labels: s.labels, value: s.count })),
      }),
      reset: () => this.requests.clear(),
    };
  }

  private durationMetric(): CustomMetric {
    const name = 'kiln_http_request_duration_seconds';
    const help = 'Time from receiving a request to finishing its response, by method and route template.';
    const samples = (): Sample[] => {
      const values: Sample[] = [];
      for (const series of this.durations.values()) {
        let cumulative = 0;
        for (let i = 0; i <= DURATION_BUCKETS.length; i++) {
          cumulative += series.buckets[i] ?? 0;
          const le = DURATION_BUCKETS[i] ?? '+Inf';
          values.push({ metricName: `${name}_bucket`, labels: { ...series.labels, le }, value: cumulative });
        }
        values.push({ metricName: `${name}_sum`, labels: series.labels, value: series.sum });
        values.push({ metricName: `${name}_count`, labels: series.labels, value: series.count });
      }
      return values;
    };
    return {
      name,
      help,
      type: 'histogram',
      aggregator: 'sum',
      get: async () => ({ name, help, type: 'histogram', aggregator: 'sum', values: samples() }),
      reset: () => {
        this.durations.clear();
        this.requests.clear();
      },
    };
  }
}
