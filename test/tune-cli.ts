/**
 * The `kiln` CLI with `kiln tune` registered, run as `node --import tsx tune-cli.ts <args…>`: the
 * same wiring as src/cli/main.ts, for testing the tune command before program.ts registers it (once
 * it does, the command tree already has `tune` and this adds nothing).
 */
import { registerTuneCommands } from '../src/cli/commands/tune.js';
import { reportError } from '../src/cli/exit.js';
import { createProgram } from '../src/cli/program.js';

const program = createProgram(process.env);
if (!program.commands.some((command) => command.name() === 'tune')) registerTuneCommands(program, process.env);
try {
  await program.parseAsync(process.argv);
} catch (err) {
  process.exitCode = reportError(err, process.env);
}
