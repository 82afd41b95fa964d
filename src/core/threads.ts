import { extname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker, type WorkerOptions } from 'node:worker_threads';

/**
 * Starts a worker thread on the module `name` beside the calling module: `<name>.ts` when Kiln runs
 * from source under tsx, `<name>.js` once compiled to dist/. Node 20 does not carry tsx's module hooks
 * into worker threads, so from source a short bootstrap registers tsx in the worker before importing
 * the TypeScript entry; with another TypeScript loader the worker is left to inherit it.
 *
 * @example
 * const worker = startModuleWorker(import.meta.url, 'fit-worker', { workerData: input });
 */
export function startModuleWorker(callerUrl: string, name: string, options: WorkerOptions = {}): Worker {
  const extension = extname(fileURLToPath(callerUrl));
  const entry = new URL(`./${name}${extension}`, callerUrl);
  if (extension !== '.ts') return new Worker(entry, options);
  let tsxApi: string;
  try {
    tsxApi = import.meta.resolve('tsx/esm/api');
  } catch {
    return new Worker(entry, options);
  }
  const bootstrap = `import(${JSON.stringify(tsxApi)}).then((tsx) => { tsx.register(); return import(${JSON.stringify(entry.href)}); });`;
  return new Worker(bootstrap, { ...options, eval: true });
}
