import type { Dirent } from 'node:fs';
import { lstat, readdir, realpath } from 'node:fs/promises';
import { join } from 'node:path';
import { canonicalKey } from '../paths.js';
import type { BlobListPage, BlobStat } from './blob-store.js';
import { isInside, TEMP_DIR } from './file-io.js';
import { compareKeys, encodeCursor } from './input.js';

/**
 * One page of the objects under `realRoot` whose key starts with `prefix` and sorts after `after`.
 * Only the directories on the way to the cursor and inside the prefix are read, one at a time, so
 * memory follows the widest directory rather than the size of the tree.
 *
 * @example
 * const page = await listPage('/var/kiln/artifacts', 'runs/', 100, undefined);
 */
export async function listPage(
  realRoot: string,
  prefix: string,
  limit: number,
  after: string | undefined,
): Promise<BlobListPage> {
  const items: BlobStat[] = [];
  const start = prefix.slice(0, prefix.lastIndexOf('/') + 1);
  if (start.split('/')[0] === TEMP_DIR) return { items };
  const startPath = await containedDirectory(realRoot, start);
  if (startPath === undefined) return { items };
  const keys = walkKeys(startPath, start, prefix, after);
  try {
    for await (const key of keys) {
      if (items.length === limit) return { items, nextCursor: encodeCursor(items[items.length - 1]?.key ?? key) };
      const facts = await lstat(join(realRoot, ...key.split('/'))).catch(() => undefined);
      if (facts?.isFile()) items.push({ key, size: facts.size, modified: facts.mtime });
    }
  } finally {
    await keys.return(undefined);
  }
  return { items };
}

/** The real path of `dirKey` (e.g. 'runs/abc/') when it is a directory inside the root. */
async function containedDirectory(realRoot: string, dirKey: string): Promise<string | undefined> {
  if (dirKey === '') return realRoot;
  try {
    const real = await realpath(join(realRoot, dirKey));
    return isInside(realRoot, real) ? real : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Keys in code-point order by depth-first walk. A directory `d` sorts as `d/`, which places all of
 * its keys exactly where they belong among its siblings. Symbolic links, other non-regular entries,
 * names that are not valid key segments and the root's temp area are skipped.
 */
async function* walkKeys(
  dirPath: string,
  dirKey: string,
  prefix: string,
  after: string | undefined,
): AsyncGenerator<string> {
  let entries: Dirent[];
  try {
    entries = await readdir(dirPath, { withFileTypes: true });
  } catch {
    return;
  }
  const children: { name: string; key: string; directory: boolean }[] = [];
  for (const entry of entries) {
    if (dirKey === '' && entry.name === TEMP_DIR) continue;
    const directory = entry.isDirectory();
    if (!directory && !entry.isFile()) continue;
    if (!isSegment(entry.name)) continue;
    children.push({ name: entry.name, key: `${dirKey}${entry.name}${directory ? '/' : ''}`, directory });
  }
  children.sort((a, b) => compareKeys(a.key, b.key));
  for (const child of children) {
    if (child.directory) {
      if (!child.key.startsWith(prefix) && !prefix.startsWith(child.key)) continue;
      if (after !== undefined && compareKeys(after, child.key) > 0 && !after.startsWith(child.key)) continue;
      yield* walkKeys(join(dirPath, child.name), child.key, prefix, after);
    } else {
      if (!child.key.startsWith(prefix)) continue;
      if (after !== undefined && compareKeys(child.key, after) <= 0) continue;
      yield child.key;
    }
  }
}

function isSegment(name: string): boolean {
  try {
    return canonicalKey(name, 'name') === name;
  } catch {
    return false;
  }
}
