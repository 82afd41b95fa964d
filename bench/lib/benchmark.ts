import type { LoadTool } from './load.js';
import type { BenchResult } from './result.js';

/** Knobs shared by every benchmark, set from `npm run bench -- <name> [--rounds n] …`. */
export interface BenchOptions {
  rounds: number;
  durationSec: number;
  warmupSec: number;
  connections: number;
  /** Forces the HTTP load generator; by default wrk when installed. */
  tool: LoadTool | undefined;
}

/**
 * One performance claim: it measures its subject and its baseline in the same run and returns
 * one {@link BenchResult}. Register it in bench/run.ts.
 *
 * @example
 * export const healthBenchmark: Benchmark = { name: 'health', description: '…', needsBuild: true, run: async (options) => … };
 */
export interface Benchmark {
  name: string;
  description: string;
  /** True when it runs the compiled `dist/` (the harness runs `npm run build` once first). */
  needsBuild: boolean;
  run(options: BenchOptions): Promise<BenchResult>;
}
