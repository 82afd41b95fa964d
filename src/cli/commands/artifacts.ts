import { stat } from 'node:fs/promises';
import type { Command } from 'commander';
import { KilnError } from '../../core/index.js';
import type { ArtifactFile } from '../../sdk/index.js';
import { type Env, globalOptions } from '../context.js';
import { printJson, printTable } from '../output.js';
import { clientFor } from '../remote.js';

/**
 * `kiln artifacts ls|get|put`: a run's files. Transfers are streamed, so large models never sit
 * in memory. `get` without `-o` writes the file's bytes to stdout (for pipes); with `-o` it writes
 * the file and prints what it wrote. `put` of a directory uploads everything under it.
 *
 * @example
 * // kiln artifacts put 1f0c… ./model model        → model/model.json, model/MLmodel, …
 * // kiln artifacts ls 1f0c… model
 * // kiln artifacts get 1f0c… model/model.json -o model.json
 */
export function registerArtifactCommands(program: Command, env: Env): void {
  const artifacts = program.command('artifacts').description("a run's artifacts on a Kiln server");

  artifacts
    .command('ls <run_id> [path]')
    .description('list one directory level of a run’s artifacts (default the root)')
    .action(async (runId: string, path: string | undefined, _options: unknown, command: Command) => {
      const kiln = clientFor(command, env);
      const files: ArtifactFile[] = [];
      let rootUri = '';
      let pageToken: string | undefined;
      do {
        const page = await kiln.tracking.artifacts.list(runId, path, { pageToken });
        rootUri = page.root_uri;
        files.push(...page.files);
        pageToken = page.next_page_token;
      } while (pageToken !== undefined);
      if (globalOptions(command).json) printJson({ root_uri: rootUri, files });
      else
        printTable(
          ['path', 'type', 'size'],
          files.map((f) => [f.path, f.is_dir ? 'dir' : 'file', f.file_size === undefined ? '' : String(f.file_size)]),
        );
    });

  artifacts
    .command('get <run_id> <path>')
    .description('download an artifact to stdout, or to a file with -o')
    .option('-o, --output <file>', 'write to this file instead of stdout')
    .action(async (runId: string, path: string, options: { output?: string }, command: Command) => {
      const kiln = clientFor(command, env);
      if (options.output === undefined) {
        await kiln.tracking.artifacts.download(runId, path, process.stdout);
        return;
      }
      const bytes = await kiln.tracking.artifacts.downloadToFile(runId, path, options.output);
      if (globalOptions(command).json) printJson({ path, file: options.output, bytes });
      else printTable(['path', 'file', 'bytes'], [[path, options.output, String(bytes)]]);
    });

  artifacts
    .command('put <run_id> <local> [artifact_path]')
    .description('upload a file or a directory under artifact_path (default the root)')
    .action(
      async (runId: string, local: string, artifactPath: string | undefined, _options: unknown, command: Command) => {
        const kiln = clientFor(command, env);
        const info = await stat(local).catch(() => {
          throw new KilnError('INVALID_PARAMETER_VALUE', `${local}: no such file or directory`, { path: local });
        });
        const stored = info.isDirectory()
          ? await kiln.tracking.artifacts.uploadDirectory(runId, local, artifactPath)
          : [await kiln.tracking.artifacts.upload(runId, local, artifactPath)];
        if (globalOptions(command).json) printJson({ artifacts: stored });
        else
          printTable(
            ['path', 'size', 'sha256'],
            stored.map((s) => [s.path, String(s.file_size), s.sha256]),
          );
      },
    );
}
