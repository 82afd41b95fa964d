import type { Queue } from '../queue.js';

/**
 * Calls that must fail with INVALID_PARAMETER_VALUE, each with the field the error must name.
 * Every backend validates at its boundary, before touching its store.
 */
export function badInput(queue: Queue, name: string): [string, () => Promise<unknown>][] {
  const cycle: Record<string, unknown> = {};
  cycle.self = cycle;
  return [
    ['queue', () => queue.enqueue('', 'n', {})],
    ['queue', () => queue.enqueue('a:b', 'n', {})],
    ['queue', () => queue.enqueue('q'.repeat(201), 'n', {})],
    ['name', () => queue.enqueue(name, '', {})],
    ['name', () => queue.enqueue(name, 'has space', {})],
    ['attempts', () => queue.enqueue(name, 'n', {}, { attempts: 0 })],
    ['attempts', () => queue.enqueue(name, 'n', {}, { attempts: 101 })],
    ['attempts', () => queue.enqueue(name, 'n', {}, { attempts: 1.5 })],
    ['backoffMs', () => queue.enqueue(name, 'n', {}, { backoffMs: -1 })],
    ['delayMs', () => queue.enqueue(name, 'n', {}, { delayMs: -1 })],
    ['jobId', () => queue.enqueue(name, 'n', {}, { jobId: '42' })],
    ['jobId', () => queue.enqueue(name, 'n', {}, { jobId: 'run:7' })],
    ['data', () => queue.enqueue(name, 'n', 10n)],
    ['data', () => queue.enqueue(name, 'n', cycle)],
    ['data', () => queue.enqueue(name, 'n', undefined)],
    ['timeoutMs', () => queue.waitFor(name, 'some-job', -1)],
    ['queue', () => queue.getJob('bad queue', 'x')],
    ['concurrency', async () => queue.process(name, async () => 1, { concurrency: 0 })],
  ];
}
