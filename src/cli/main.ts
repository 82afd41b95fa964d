#!/usr/bin/env node
/**
 * The `kiln` executable (package.json `bin`). It only wires the process to the command tree:
 * arguments in, exit code out. Exit codes: 0 success, 1 failure, 2 usage error (see `kiln --help`).
 *
 * @example
 * // node dist/cli/main.js config --json
 */
import { reportError } from './exit.js';
import { createProgram } from './program.js';

const program = createProgram(process.env);
try {
  await program.parseAsync(process.argv);
} catch (err) {
  process.exitCode = reportError(err, process.env);
}
