import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { startServerProcess } from './support/server-process.js';

const home = mkdtempSync(join(tmpdir(), 'kiln-crash-'));
after(() => rmSync(home, { recursive: true, force: true }));

describe('a server killed with SIGKILL', () => {
  it('loses no acknowledged write and restarts on the same KILN_HOME without repair', async () => {
    const first = await startServerProcess({ KILN_HOME: home });
    const acknowledged: string[] = [];
    let killed = false;

    // Writers keep creating workspaces until the process dies under them; only 201s count.
    const writer = async (id: number) => {
      for (let i = 0; !killed; i++) {
        const name = `w${id}-${i}`;
        try {
          const res = await fetch(`${first.url}/api/v1/workspaces`, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({ name, description: `written by writer ${id}` }),
          });
          if (res.status === 201) acknowledged.push(name);
          else assert.fail(`unexpected ${res.status}: ${await res.text()}`);
        } catch (err) {
          if (!killed) throw err;
        }
      }
    };
    const writers = [0, 1, 2, 3].map(writer);
    while (acknowledged.length < 200) await new Promise((r) => setTimeout(r, 5));
    killed = true;
    first.child.kill('SIGKILL');
    assert.equal(await first.exited, 'SIGKILL');
    await Promise.all(writers);

    const second = await startServerProcess({ KILN_HOME: home });
    try {
      const ready = await fetch(`${second.url}/health/ready`);
      assert.equal(ready.status, 200, await ready.text());
      const names = new Set<string>();
      let token: string | undefined;
      do {
        const q = new URLSearchParams({ max_results: '1000', ...(token ? { page_token: token } : {}) });
        const res = await fetch(`${second.url}/api/v1/workspaces?${q}`);
        assert.equal(res.status, 200);
        const body = (await res.json()) as { workspaces: Array<{ name: string }>; next_page_token?: string };
        for (const w of body.workspaces) names.add(w.name);
        token = body.next_page_token;
      } while (token);
      const lost = acknowledged.filter((n) => !names.has(n));
      assert.deepEqual(lost, [], `${lost.length} of ${acknowledged.length} acknowledged writes were lost`);
    } finally {
      second.child.kill('SIGTERM');
      assert.equal(await second.exited, 0);
    }
  });
});
