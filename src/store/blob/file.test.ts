import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rm, stat, symlink, utimes, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { FileBlobStore } from './file.js';
import { STALE_TEMP_MS, TEMP_DIR } from './file-io.js';
import { readAll, sha256 } from './testing/conformance.js';

let base: string;
before(async () => {
  base = await mkdtemp(join(tmpdir(), 'kiln-file-blob-'));
});
after(async () => {
  await rm(base, { recursive: true, force: true });
});

async function freshRoot(name: string): Promise<string> {
  const root = join(base, name);
  await mkdir(root, { recursive: true });
  return root;
}

/** The pid of a process that has exited and been reaped, so it is certainly not writing. */
async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', '0']);
  await new Promise((resolve) => child.once('exit', resolve));
  assert.ok(child.pid !== undefined);
  return child.pid;
}

describe('FileBlobStore', () => {
  it('refuses keys that reach outside the root through a symbolic link', async () => {
    const root = await freshRoot('symlink');
    const outside = await freshRoot('outside');
    await writeFile(join(outside, 'secret.txt'), 'secret');
    await symlink(outside, join(root, 'evil'));
    await symlink(join(outside, 'secret.txt'), join(root, 'link.txt'));
    const store = new FileBlobStore(root);
    for (const key of ['evil/secret.txt', 'link.txt']) {
      await assert.rejects(store.get(key), { code: 'PERMISSION_DENIED' }, key);
      await assert.rejects(store.stat(key), { code: 'PERMISSION_DENIED' }, key);
      await assert.rejects(store.delete(key), { code: 'PERMISSION_DENIED' }, key);
    }
    await assert.rejects(store.put('evil/new.txt', 'x'), { code: 'PERMISSION_DENIED' });
    await assert.rejects(store.put('evil/deeper/new.txt', 'x'), { code: 'PERMISSION_DENIED' });
    assert.deepEqual(await readdir(outside), ['secret.txt']);
    assert.equal(await readFile(join(outside, 'secret.txt'), 'utf8'), 'secret');
    assert.deepEqual((await store.list('')).items, []);
    assert.deepEqual((await store.list('evil/')).items, []);
  });

  it('reserves the temp area and never shows temp files', async () => {
    const root = await freshRoot('reserved');
    const store = new FileBlobStore(root);
    await store.put('visible', 'v');
    await writeFile(join(root, TEMP_DIR, `${process.pid}-0123abcd@${hostname()}`), 'in progress');
    for (const key of ['.tmp', '.tmp/x', './.tmp/x']) {
      await assert.rejects(store.get(key), { code: 'INVALID_PARAMETER_VALUE', message: /^key: / }, key);
      await assert.rejects(store.put(key, 'x'), { code: 'INVALID_PARAMETER_VALUE' }, key);
    }
    assert.deepEqual(
      (await store.list('')).items.map((i) => i.key),
      ['visible'],
    );
    assert.deepEqual((await store.list('.tmp/')).items, []);
    assert.deepEqual((await store.list('.t')).items, []);
  });

  it('sweeps abandoned temp files on open and keeps live ones', async () => {
    const root = await freshRoot('sweep');
    const temp = join(root, TEMP_DIR);
    await mkdir(temp, { recursive: true });
    const dead = `${await deadPid()}-aa@${hostname()}`;
    const mine = `${process.pid}-bb@${hostname()}`;
    const foreignOld = `1-cc@another-host`;
    const foreignFresh = `2-dd@another-host`;
    for (const name of [dead, mine, foreignOld, foreignFresh, 'stray-old']) await writeFile(join(temp, name), 'x');
    const old = new Date(Date.now() - STALE_TEMP_MS - 60_000);
    await utimes(join(temp, foreignOld), old, old);
    await utimes(join(temp, 'stray-old'), old, old);
    const store = new FileBlobStore(root);
    await store.list('');
    assert.deepEqual((await readdir(temp)).sort(), [foreignFresh, mine].sort());
  });

  it('refuses to store an object beneath another object or over a directory', async () => {
    const store = new FileBlobStore(await freshRoot('conflict'));
    await store.put('a', 'object a');
    await assert.rejects(store.put('a/b', 'x'), { code: 'RESOURCE_CONFLICT', message: /'a' is an object/ });
    await store.put('d/x', 'x');
    await assert.rejects(store.put('d', 'x'), { code: 'RESOURCE_CONFLICT' });
    assert.equal(await store.stat('d'), undefined);
    await assert.rejects(store.get('d'), { code: 'RESOURCE_DOES_NOT_EXIST' });
    assert.equal(await store.delete('d'), false);
    assert.equal((await readAll(await store.get('a'))).toString(), 'object a');
  });

  it('removes emptied parent directories up to, not including, the root', async () => {
    const root = await freshRoot('prune');
    const store = new FileBlobStore(root);
    await store.put('p/q/r/one', '1');
    await store.put('p/keep', 'k');
    assert.equal(await store.delete('p/q/r/one'), true);
    assert.deepEqual((await readdir(root)).sort(), [TEMP_DIR, 'p']);
    assert.deepEqual(await readdir(join(root, 'p')), ['keep']);
    assert.equal(await store.delete('p/keep'), true);
    assert.deepEqual(await readdir(root), [TEMP_DIR]);
    assert.ok((await stat(root)).isDirectory());
  });

  it('leaves nothing behind after ping', async () => {
    const root = await freshRoot('ping');
    const store = new FileBlobStore(root);
    await store.ping();
    assert.deepEqual(await readdir(join(root, TEMP_DIR)), []);
  });

  it('reports an unusable root on use and a relative root at once', async () => {
    const file = join(base, 'not-a-directory');
    await writeFile(file, 'x');
    const store = new FileBlobStore(file);
    await assert.rejects(store.put('k', 'v'), { code: 'TEMPORARILY_UNAVAILABLE', message: /not usable/ });
    await assert.rejects(store.ping(), { code: 'TEMPORARILY_UNAVAILABLE' });
    assert.throws(() => new FileBlobStore('relative/dir'), { code: 'INVALID_CONFIGURATION' });
  });

  it('keeps every acknowledged put and no partial one when the writer is killed mid-stream', async () => {
    const root = await freshRoot('crash');
    const script = fileURLToPath(new URL('./testing/crash-writer.ts', import.meta.url));
    const child = spawn(process.execPath, ['--import', 'tsx', script, root, '6'], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    const acked = new Map<string, string>();
    const streaming = new Set<string>();
    for await (const line of createInterface({ input: child.stdout })) {
      const [kind, key, stored, generated] = line.split(' ');
      if (kind === 'ack' && key !== undefined && stored !== undefined) {
        assert.equal(stored, generated, `store hash of ${key} matches the generated bytes`);
        acked.set(key, stored);
      }
      if (kind === 'streaming' && key !== undefined) streaming.add(key);
      if (streaming.size === 2) {
        child.kill('SIGKILL');
        break;
      }
    }
    assert.equal(await exited, null, 'the writer was killed, not finished');
    assert.equal(acked.size, 6);
    assert.ok((await readdir(join(root, TEMP_DIR))).length >= 2, 'both interrupted puts left temp files');

    const store = new FileBlobStore(root);
    const listed = (await store.list('crash/')).items.map((item) => item.key);
    assert.deepEqual(listed, [...acked.keys()].sort());
    for (const [key, hash] of acked) assert.equal(sha256(await readAll(await store.get(key))), hash, key);
    assert.equal(await store.stat('crash/partial'), undefined);
    assert.deepEqual(await readdir(join(root, TEMP_DIR)), [], 'the dead writer’s temp files were swept');
  });
});
