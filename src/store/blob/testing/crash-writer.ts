// Child process for the file store's crash test: `node --import tsx crash-writer.ts <root> <count>`.
// Puts <count> blobs, printing `ack <key> <sha256-from-store> <sha256-of-generated-bytes>` as each
// put resolves, then starts two puts that never finish (an overwrite of crash/0 and a new
// crash/partial), printing `streaming <key>` once each has bytes on disk, and waits to be killed.
import { createHash, randomBytes } from 'node:crypto';
import { writeSync } from 'node:fs';
import { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { FileBlobStore } from '../file.js';

const [root, countText] = process.argv.slice(2);
if (root === undefined || countText === undefined) {
  console.error('usage: crash-writer.ts <root> <count>');
  process.exit(2);
}
const store = new FileBlobStore(root);

for (let i = 0; i < Number(countText); i++) {
  const hash = createHash('sha256');
  async function* chunks() {
    const count = 2 + (i % 7);
    for (let c = 0; c < count; c++) {
      const chunk = randomBytes(64 * 1024 + c * 1000);
      hash.update(chunk);
      yield chunk;
    }
  }
  const result = await store.put(`crash/${i}`, Readable.from(chunks()));
  writeSync(1, `ack ${result.key} ${result.sha256} ${hash.digest('hex')}\n`);
}

async function* endless(key: string) {
  for (let c = 0; ; c++) {
    // The store pulls the next chunk only after writing the previous one, so from the third pull
    // on the temp file holds bytes.
    if (c === 2) writeSync(1, `streaming ${key}\n`);
    if (c >= 2) await sleep(20);
    yield randomBytes(64 * 1024);
  }
}
await Promise.all([
  store.put('crash/0', Readable.from(endless('crash/0'))),
  store.put('crash/partial', Readable.from(endless('crash/partial'))),
]);
