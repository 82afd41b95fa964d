import { createReadStream, createWriteStream } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { basename, join, relative, sep } from 'node:path';
import { Readable, type Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { KilnError } from '../core/index.js';
import type { KilnClient } from './client.js';
import type { ArtifactList, StoredArtifact } from './types.js';

/** Options of {@link ArtifactsApi.list}. */
export interface ListArtifactsParams {
  /** 1 to the server's page limit. */
  maxResults?: number;
  pageToken?: string;
}

/**
 * `kiln.tracking.artifacts`: a run's files over `/api/v1/runs/<id>/artifacts`. Uploads and
 * downloads are streamed, so a model file of gigabytes never sits in memory; the server
 * canonicalises every path and refuses traversal.
 *
 * @example
 * await kiln.tracking.artifacts.upload(runId, 'out/model.json', 'model'); // → model/model.json
 * await kiln.tracking.artifacts.download(runId, 'model/model.json', createWriteStream('model.json'));
 */
export class ArtifactsApi {
  constructor(private readonly client: KilnClient) {}

  /** One page of one directory level (`path` default the root). */
  list(runId: string, path?: string, params: ListArtifactsParams = {}): Promise<ArtifactList> {
    return this.client.request<ArtifactList>('GET', `${rootOf(runId)}`, {
      query: { path, max_results: params.maxResults, page_token: params.pageToken },
    });
  }

  /** Uploads the file at `localPath` as `<artifactPath>/<its base name>`, streamed from disk. */
  upload(runId: string, localPath: string, artifactPath?: string): Promise<StoredArtifact> {
    return this.put(runId, localPath, joinArtifactPath(artifactPath, basename(localPath)));
  }

  /** Uploads every file under `dir`, keeping the layout below it, one file at a time. */
  async uploadDirectory(runId: string, dir: string, artifactPath?: string): Promise<StoredArtifact[]> {
    const stored: StoredArtifact[] = [];
    for (const file of await filesUnder(dir)) {
      const rel = relative(dir, file).split(sep).join('/');
      stored.push(await this.put(runId, file, joinArtifactPath(artifactPath, rel)));
    }
    return stored;
  }

  /**
   * Uploads `localPath` to exactly `artifactPath`, replacing any file there. A PUT of the same
   * bytes is harmless, so it is retried like any idempotent request, reopening the file each time.
   */
  async put(runId: string, localPath: string, artifactPath: string): Promise<StoredArtifact> {
    const info = await stat(localPath).catch((error: NodeJS.ErrnoException) => {
      throw new KilnError('INVALID_PARAMETER_VALUE', `${localPath}: ${error.code ?? error.message}`, {
        path: localPath,
      });
    });
    if (!info.isFile()) {
      throw new KilnError('INVALID_PARAMETER_VALUE', `${localPath}: not a file`, { path: localPath });
    }
    return this.client.request<StoredArtifact>('PUT', `${rootOf(runId)}/${encodePath(artifactPath)}`, {
      raw: {
        contentType: 'application/octet-stream',
        open: () => Readable.toWeb(createReadStream(localPath)) as ReadableStream<Uint8Array>,
      },
    });
  }

  /** Streams the artifact at `artifactPath` into `destination`; resolves the bytes written. */
  async download(runId: string, artifactPath: string, destination: Writable): Promise<number> {
    const response = await this.client.stream('GET', `${rootOf(runId)}/${encodePath(artifactPath)}`);
    if (response.body === null) return 0;
    let bytes = 0;
    const source = Readable.fromWeb(response.body as WebReadableStream<Uint8Array>);
    source.on('data', (chunk: Buffer) => {
      bytes += chunk.byteLength;
    });
    await pipeline(source, destination);
    return bytes;
  }

  /** Downloads `artifactPath` to the local file `localPath`, created or replaced. */
  downloadToFile(runId: string, artifactPath: string, localPath: string): Promise<number> {
    return this.download(runId, artifactPath, createWriteStream(localPath));
  }
}

function rootOf(runId: string): string {
  return `/api/v1/runs/${encodeURIComponent(runId)}/artifacts`;
}

/** Each segment percent-encoded, the slashes kept: the route takes the rest of the URL as the path. */
function encodePath(path: string): string {
  return path
    .split('/')
    .filter((segment) => segment !== '')
    .map(encodeURIComponent)
    .join('/');
}

function joinArtifactPath(dir: string | undefined, name: string): string {
  const trimmed = (dir ?? '').replace(/^\/+|\/+$/g, '');
  return trimmed === '' ? name : `${trimmed}/${name}`;
}

async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true, recursive: true });
  return entries
    .filter((entry) => entry.isFile())
    .map((entry) => join(entry.parentPath, entry.name))
    .sort();
}
