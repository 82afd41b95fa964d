import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { transferProgress } from './progress.js';

function sink(isTTY: boolean) {
  const written: string[] = [];
  return { isTTY, written, write: (text: string) => written.push(text) };
}

describe('transferProgress', () => {
  it('should print one plain line per tenth when not on a terminal', () => {
    const out = sink(false);
    const progress = transferProgress('uploading x.csv', out);
    for (let sent = 0; sent <= 1000; sent += 25) progress.update(sent, 1000);
    progress.finish();
    assert.equal(out.written.length, 11);
    assert.equal(out.written[0], 'uploading x.csv: 0% (0.0 MB of 0.0 MB)\n');
    assert.match(out.written.at(-1) ?? '', /: 100% /);
  });

  it('should redraw one bar in place on a terminal and end its line when finished', () => {
    const out = sink(true);
    const progress = transferProgress('up', out);
    progress.update(5_000_000, 10_000_000);
    progress.update(10_000_000, 10_000_000);
    progress.finish();
    assert.equal(out.written[0], `\rup [${'#'.repeat(15)}${'-'.repeat(15)}] 50% 5.0 MB / 10.0 MB`);
    assert.ok(out.written[1]?.includes('100%'));
    assert.equal(out.written[2], '\n');
  });
});
