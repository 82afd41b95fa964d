import { spawnSync } from 'node:child_process';

/** Debian's Python, where python3-sklearn, python3-xgboost and friends are installed (not the PATH one). */
export const REFERENCE_PYTHON = '/usr/bin/python3';

/**
 * Why tests against the Python references must be skipped here, or false when `modules` import.
 * Outside CI a missing module skips with this message; `.ci/run` installs them.
 *
 * @example
 * describe('logistic regression vs sklearn', { skip: pythonSkip(['sklearn']) }, () => { … });
 */
export function pythonSkip(modules: readonly string[]): string | false {
  const probe = spawnSync(REFERENCE_PYTHON, ['-c', `import ${modules.join(', ')}`], { encoding: 'utf8' });
  if (probe.status === 0) return false;
  return `needs ${REFERENCE_PYTHON} with ${modules.join(', ')} (apt-get install ${modules
    .map((m) => `python3-${m === 'sklearn' ? 'sklearn' : m}`)
    .join(' ')})`;
}

/**
 * Runs a Python script with JSON on stdin and parses the JSON it prints: how tests ask sklearn or
 * XGBoost for the reference answer on the same data.
 *
 * @example
 * const { coef } = runPython<{ coef: number[] }>('import json,sys; ...', { X, y });
 */
export function runPython<T>(script: string, input: unknown): T {
  const result = spawnSync(REFERENCE_PYTHON, ['-c', script], {
    input: JSON.stringify(input),
    encoding: 'utf8',
    maxBuffer: 1 << 28,
  });
  if (result.status !== 0) throw new Error(`python failed (${result.status}): ${result.stderr}`);
  return JSON.parse(result.stdout) as T;
}
