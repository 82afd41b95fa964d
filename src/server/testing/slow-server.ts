// A real Kiln server in its own process, for the graceful-shutdown test. It adds one test-only
// route, GET /test/slow, that stays in flight until the parent writes `release` on stdin, and
// reports on stdout: `listening <url>` once it listens, `in-flight` when the slow request arrives.
import { createInterface } from 'node:readline';
import { loadConfig, silentLogger } from '../../core/index.js';
import { startServer } from '../start.js';

let release: () => void = () => undefined;
const released = new Promise<void>((resolve) => {
  release = resolve;
});
createInterface({ input: process.stdin }).on('line', (line) => {
  if (line.trim() === 'release') release();
});

const server = await startServer(loadConfig(process.env), silentLogger(), {
  handleSignals: true,
  extend(app) {
    app.get('/test/slow', { config: { permission: 'public' } }, async () => {
      process.stdout.write('in-flight\n');
      await released;
      return { finished: true };
    });
  },
});
process.stdout.write(`listening ${server.url}\n`);
