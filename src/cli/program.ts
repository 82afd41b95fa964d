import { Command, Option } from 'commander';
import { KILN_VERSION } from '../core/index.js';
import { registerArtifactCommands } from './commands/artifacts.js';
import { registerConfigCommand } from './commands/config.js';
import { registerDataCommands } from './commands/data.js';
import { registerDbCommands } from './commands/db.js';
import { registerDeployCommands } from './commands/deploy.js';
import { registerExperimentCommands } from './commands/experiments.js';
import { registerHealthCommand } from './commands/health.js';
import { registerModelCommands } from './commands/models.js';
import { registerPackageCommands } from './commands/package.js';
import { registerPredictCommand } from './commands/predict.js';
import { registerRunCommand } from './commands/run.js';
import { registerRunCommands } from './commands/runs.js';
import { registerServeCommand } from './commands/serve.js';
import { registerServerCommand } from './commands/server.js';
import { registerTrainCommand } from './commands/train.js';
import { registerTuneCommands } from './commands/tune.js';
import { registerVersionCommand } from './commands/version.js';
import { registerWorkerCommand } from './commands/worker.js';
import { type Env, parseServerUrl } from './context.js';
import { EXIT_CODES_HELP } from './exit.js';

/**
 * Builds the `kiln` command tree. Commander is told never to exit the process itself
 * (`exitOverride`), so the caller maps every outcome to the documented exit codes in one place.
 * Subcommands are created with `.command()` after those settings so they inherit them.
 *
 * @example
 * const program = createProgram(process.env);
 * try { await program.parseAsync(process.argv); } catch (err) { process.exitCode = reportError(err, process.env); }
 */
export function createProgram(env: Env): Command {
  const program = new Command('kiln')
    .description('Kiln: the whole machine-learning lifecycle in one install.')
    .version(KILN_VERSION, '-V, --version', 'print the CLI version')
    .option('--json', 'print one JSON document instead of tables')
    .addOption(
      new Option('--url <url>', 'Kiln server for client commands (default: http://$KILN_HOST:$KILN_PORT)').argParser(
        parseServerUrl,
      ),
    )
    .option('--token <token>', 'API token sent to the server as a bearer token')
    .exitOverride()
    .configureOutput({ outputError: (text, write) => write(`kiln: ${text.replace(/^error: /, '')}`) })
    .showHelpAfterError("(run 'kiln --help' for usage)")
    .showSuggestionAfterError()
    .addHelpText('after', EXIT_CODES_HELP);

  registerServerCommand(program, env);
  registerServeCommand(program, env);
  registerDeployCommands(program, env);
  registerPredictCommand(program, env);
  registerPackageCommands(program, env);
  registerWorkerCommand(program, env);
  registerDbCommands(program, env);
  registerConfigCommand(program, env);
  registerVersionCommand(program, env);
  registerHealthCommand(program, env);
  registerExperimentCommands(program, env);
  registerRunCommands(program, env);
  registerArtifactCommands(program, env);
  registerModelCommands(program, env);
  registerDataCommands(program, env);
  registerTrainCommand(program, env);
  registerTuneCommands(program, env);
  registerRunCommand(program, env);
  return program;
}
