import { invalidParameter } from '../../core/index.js';
import { type AshaOptions, ashaOptions, type MedianOptions, medianOptions, type PrunerSpec } from './specs.js';
import { type Direction, intermediateMap, type TrialRecord } from './trials.js';

/** numpy's `nanpercentile` with linear interpolation; NaN when every value is NaN. */
function nanPercentile(values: readonly number[], percentile: number): number {
  const sorted = values.filter((v) => !Number.isNaN(v)).sort((a, b) => a - b);
  if (sorted.length === 0) return Number.NaN;
  const rank = (percentile / 100) * (sorted.length - 1);
  const lower = Math.floor(rank);
  const upper = Math.ceil(rank);
  const low = sorted[lower] as number;
  return low + ((sorted[upper] as number) - low) * (rank - lower);
}

/** Optuna's `_is_first_in_interval_step`: prune only at the first report of each interval. */
function isFirstInInterval(step: number, steps: Iterable<number>, warmup: number, interval: number): boolean {
  const nearestLowerPruningStep = Math.floor((step - warmup) / interval) * interval + warmup;
  let secondLast = -1;
  for (const s of steps) if (s > secondLast && s !== step) secondLast = s;
  return secondLast < nearestLowerPruningStep;
}

function shouldPruneMedian(
  options: MedianOptions,
  direction: Direction,
  trials: readonly TrialRecord[],
  trial: TrialRecord,
  values: Map<number, number>,
  lastStep: number,
): boolean {
  const completed = trials.filter((t) => t.state === 'complete' && t.number !== trial.number);
  if (completed.length === 0 || completed.length < options.nStartupTrials) return false;
  if (lastStep < options.nWarmupSteps) return false;
  if (!isFirstInInterval(lastStep, values.keys(), options.nWarmupSteps, options.intervalSteps)) return false;
  const own = [...values.values()].filter((v) => !Number.isNaN(v));
  if (own.length === 0) return true;
  const best = direction === 'maximize' ? Math.max(...own) : Math.min(...own);
  const atStep = completed.flatMap((t) => {
    const value = intermediateMap(t).get(lastStep);
    return value === undefined ? [] : [value];
  });
  if (atStep.length < options.nMinTrials) return false;
  const median = nanPercentile(atStep, 50);
  if (Number.isNaN(median)) return false;
  return direction === 'maximize' ? best < median : best > median;
}

/**
 * The reported steps of a trial in order with their values, the first report of a step winning.
 */
function sortedReports(trial: TrialRecord, upToStep = Number.POSITIVE_INFINITY): [number, number][] {
  return [...intermediateMap(trial, upToStep).entries()].sort((a, b) => a[0] - b[0]);
}

/**
 * The value a trial recorded at a rung: Optuna stores it (as a `completed_rung_r` attribute) when the
 * trial first reports a step at or past the rung's promotion step; Kiln reconstructs it from the
 * reports, assuming, as `optimize` does, that the pruner was asked after every report.
 */
function rungValue(reports: readonly [number, number][], promotionStep: number): number | undefined {
  const report = reports.find(([step]) => step >= promotionStep);
  return report === undefined || Number.isNaN(report[1]) ? undefined : report[1];
}

function isPromotable(value: number, competing: number[], reductionFactor: number, direction: Direction): boolean {
  const index = Math.max(Math.floor(competing.length / reductionFactor) - 1, 0);
  competing.sort((a, b) => a - b);
  return direction === 'maximize'
    ? value >= (competing[competing.length - 1 - index] as number)
    : value <= (competing[index] as number);
}

function shouldPruneAsha(
  options: AshaOptions,
  direction: Direction,
  trials: readonly TrialRecord[],
  trial: TrialRecord,
  reports: [number, number][],
): boolean {
  const others = trials.filter((t) => t.number !== trial.number);
  let minResource: number;
  let reference: number | undefined;
  if (options.minResource === 'auto') {
    // Optuna fixes 'auto' at max(last step // 100, 1) of the first trial to complete; that trial ran
    // before any rung existed, so it records none.
    const completed = others.filter((t) => t.state === 'complete' && t.intermediate.length > 0);
    if (completed.length === 0) return false;
    const first = completed.reduce((a, b) => (b.number < a.number ? b : a));
    reference = first.number;
    minResource = Math.max(Math.floor(Math.max(...intermediateMap(first).keys()) / 100), 1);
  } else minResource = options.minResource;
  const promotionStep = (rung: number) =>
    minResource * options.reductionFactor ** (options.minEarlyStoppingRate + rung);
  const [step, value] = reports[reports.length - 1] as [number, number];
  const previousStep = reports.length > 1 ? (reports[reports.length - 2] as [number, number])[0] : -1;
  let rung = 0;
  while (promotionStep(rung) <= previousStep) rung++;
  const otherReports = others.filter((t) => t.number !== reference).map((t) => sortedReports(t));
  while (step >= promotionStep(rung)) {
    if (Number.isNaN(value)) return true;
    const competing = [value];
    for (const r of otherReports) {
      const recorded = rungValue(r, promotionStep(rung));
      if (recorded !== undefined) competing.push(recorded);
    }
    if (competing.length <= options.bootstrapCount) return true;
    if (!isPromotable(value, competing, options.reductionFactor, direction)) return true;
    rung++;
  }
  return false;
}

/**
 * Whether `trial` should stop after reporting `step`, as Optuna's pruners decide it, computed from
 * the study's trials alone (a pure function, like {@link suggest}). Only reports at or before `step`
 * count. `median`: prune when the trial's best value so far is worse than the median of complete
 * trials at this step. `asha`: asynchronous successive halving; at each rung
 * (minResource·η^(minEarlyStoppingRate + r)) the trial continues only if it is in the top 1/η of
 * the values trials recorded at that rung.
 *
 * @example
 * if (shouldPrune({ type: 'median' }, 'maximize', trials, current, 12)) stopTrial('pruned');
 */
export function shouldPrune(
  pruner: PrunerSpec,
  direction: Direction,
  trials: readonly TrialRecord[],
  trial: TrialRecord,
  step: number,
): boolean {
  if (!Number.isSafeInteger(step) || step < 0) throw invalidParameter('step', 'must be an integer >= 0', step);
  if (pruner.type === 'none') return false;
  const reports = sortedReports(trial, step);
  if (reports.length === 0) return false;
  const lastStep = (reports[reports.length - 1] as [number, number])[0];
  if (pruner.type === 'median') {
    return shouldPruneMedian(medianOptions(pruner), direction, trials, trial, new Map(reports), lastStep);
  }
  return shouldPruneAsha(ashaOptions(pruner), direction, trials, trial, reports);
}
