/**
 * The one line every benchmark prints: its figure, the baseline measured in the same run, their
 * ratio and whether the ratio meets the budget. A missed budget is data (`pass: false`), not a
 * crash, so a full run always reports every benchmark.
 *
 * @example
 * const result = benchResult({ name: 'health', unit: 'req/s', value: 21000, baseline: 24000, budget: { min: 0.8 }, details: {} });
 * printResult(result); // {"name":"health","value":21000,…,"ratio":0.875,"budget":">=0.8","pass":true,…}
 */
export interface BenchResult {
  name: string;
  value: number;
  unit: string;
  baseline: number;
  /** value / baseline. */
  ratio: number;
  /** The condition on `ratio`, e.g. `>=0.8` for throughput or `<=1.5` for time. */
  budget: string;
  pass: boolean;
  details: Record<string, unknown>;
}

/** A ratio budget: a floor for higher-is-better figures, a ceiling for lower-is-better ones. */
export type RatioBudget = { min: number } | { max: number };

export interface BenchResultInput {
  name: string;
  unit: string;
  value: number;
  baseline: number;
  budget: RatioBudget;
  details: Record<string, unknown>;
}

/** Computes the ratio and the verdict from the two measured figures. */
export function benchResult(input: BenchResultInput): BenchResult {
  const ratio = input.baseline === 0 ? 0 : input.value / input.baseline;
  const pass = 'min' in input.budget ? ratio >= input.budget.min : ratio <= input.budget.max;
  const budget = 'min' in input.budget ? `>=${input.budget.min}` : `<=${input.budget.max}`;
  return {
    name: input.name,
    value: round(input.value),
    unit: input.unit,
    baseline: round(input.baseline),
    ratio: Math.round(ratio * 1000) / 1000,
    budget,
    pass,
    details: input.details,
  };
}

/** Writes the result as one JSON line on stdout (progress goes to stderr). */
export function printResult(result: BenchResult): void {
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

/** Rounds to at most three significant decimals; figures are noisy past that. */
export function round(value: number): number {
  return Math.abs(value) >= 100 ? Math.round(value) : Math.round(value * 1000) / 1000;
}

/** The middle value (mean of the two middle ones for an even count); robust to one noisy round. */
export function median(values: readonly number[]): number {
  if (values.length === 0) throw new Error('median of no values');
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  const upper = sorted[mid] as number;
  return sorted.length % 2 === 1 ? upper : ((sorted[mid - 1] as number) + upper) / 2;
}

/** Progress for people, on stderr so stdout stays one JSON line per benchmark. */
export function progress(message: string): void {
  process.stderr.write(`[bench] ${message}\n`);
}
