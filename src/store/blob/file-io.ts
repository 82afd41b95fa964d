import { randomBytes } from 'node:crypto';
import { type FileHandle, open, readdir, stat, unlink } from 'node:fs/promises';
import { hostname } from 'node:os';
import { isAbsolute, join, relative, sep } from 'node:path';

/**
 * The in-progress area under a file store's root. Puts stream here and rename into place, so it is
 * on the same file system and the rename is atomic. Keys whose first segment is this name are
 * refused, and listing skips it.
 */
export const TEMP_DIR = '.tmp';

/** A temp file whose writer cannot be checked for liveness is swept once it is this old. */
export const STALE_TEMP_MS = 24 * 60 * 60 * 1000;

const TEMP_NAME = /^(\d+)-[0-9a-f]+@(.*)$/;

/**
 * A unique temp file name recording who writes it (`<pid>-<random>@<host>`), so a sweep can tell a
 * crashed writer's leftovers from another live process's write in progress.
 *
 * @example
 * tempName(); // '4242-9f86d081884c7d65@build-7'
 */
export function tempName(): string {
  return `${process.pid}-${randomBytes(8).toString('hex')}@${hostname()}`;
}

/**
 * Removes temp files left by crashed puts. A file written on this host is removed when its writer
 * process is gone; one from another host (a shared mount) or with a foreign name only once it is
 * older than {@link STALE_TEMP_MS}. Files of the current process are kept: another store instance in
 * this process may be writing them.
 *
 * @example
 * const removed = await sweepTemp('/var/kiln/artifacts/.tmp');
 */
export async function sweepTemp(tempDir: string, now = Date.now()): Promise<number> {
  let removed = 0;
  const host = hostname();
  for (const name of await readdir(tempDir)) {
    const path = join(tempDir, name);
    const match = TEMP_NAME.exec(name);
    let abandoned: boolean;
    if (match !== null && match[2] === host) {
      const pid = Number(match[1]);
      abandoned = pid !== process.pid && !processAlive(pid);
    } else {
      const facts = await stat(path).catch(() => undefined);
      abandoned = facts !== undefined && now - facts.mtimeMs > STALE_TEMP_MS;
    }
    if (abandoned) {
      await unlink(path).then(
        () => removed++,
        () => undefined,
      );
    }
  }
  return removed;
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Writes every byte of `chunk`, looping over short writes. */
export async function writeFully(handle: FileHandle, chunk: Uint8Array): Promise<void> {
  let offset = 0;
  while (offset < chunk.byteLength) {
    const { bytesWritten } = await handle.write(chunk, offset, chunk.byteLength - offset);
    offset += bytesWritten;
  }
}

/**
 * Flushes a directory's entries to disk, so a rename or unlink inside it survives power loss. File
 * systems that cannot fsync a directory (EINVAL, EISDIR, EPERM) are tolerated.
 */
export async function fsyncDirectory(path: string): Promise<void> {
  const handle = await open(path, 'r');
  try {
    await handle.sync();
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code !== 'EINVAL' && code !== 'EISDIR' && code !== 'EPERM') throw error;
  } finally {
    await handle.close();
  }
}

/**
 * True when `path` lies strictly below `root`; both must already be real paths (symlinks resolved),
 * which is what makes this a containment check rather than a string comparison.
 *
 * @example
 * isInside('/var/kiln', '/var/kiln/runs/a'); // true
 * isInside('/var/kiln', '/var/kiln-other');  // false
 */
export function isInside(root: string, path: string): boolean {
  const rel = relative(root, path);
  return rel !== '' && rel !== '..' && !rel.startsWith(`..${sep}`) && !isAbsolute(rel);
}
