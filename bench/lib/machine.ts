import { spawnSync } from 'node:child_process';
import { availableParallelism, cpus, totalmem } from 'node:os';

/**
 * Whether the server and the load generator can each get their own core. On a 2-core machine an
 * unpinned server and load generator fight over both cores and figures swing by half; pinning
 * (server on core 0, load on core 1) makes rounds repeatable.
 *
 * @example
 * const pin = cpuPinning();
 * spawn(...pinnedCommand(pin, 0, 'node', ['server.js']));
 */
export interface CpuPinning {
  available: boolean;
  /** Why pinning is off, when it is. */
  reason?: string;
}

let cached: CpuPinning | undefined;

export function cpuPinning(): CpuPinning {
  if (cached !== undefined) return cached;
  if (availableParallelism() < 2) cached = { available: false, reason: 'fewer than 2 cores' };
  else if (spawnSync('taskset', ['-c', '1', 'true']).status !== 0)
    cached = { available: false, reason: 'taskset missing or core 1 not allowed' };
  else cached = { available: true };
  return cached;
}

/** `[command, args]` wrapped in `taskset -c <core>` when pinning is available. */
export function pinnedCommand(core: number, command: string, args: readonly string[]): [string, string[]] {
  return cpuPinning().available ? ['taskset', ['-c', String(core), command, ...args]] : [command, [...args]];
}

/** A short description of the machine for result details and BENCHMARKS.md. */
export function describeMachine(): Record<string, unknown> {
  return {
    cpu: cpus()[0]?.model.trim() ?? 'unknown',
    cores: availableParallelism(),
    memoryGiB: Math.round(totalmem() / 1024 ** 3),
    node: process.version,
    pinned: cpuPinning().available,
  };
}
