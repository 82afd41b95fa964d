/**
 * A deployments server for the SDK and CLI tests, run as a child process (they may not import
 * serving code, and a CLI run spawned synchronously must not block the server): the live stack of
 * {@link openLiveDeployments} listening on a free loopback port. Its first stdout line is
 * `listening on http://127.0.0.1:<port>`; SIGTERM closes it.
 *
 * @example
 * // node --import tsx src/serving/deployments/testing/server-main.ts
 */
import { createLogger } from '../../../core/index.js';
import { openLiveDeployments } from './live.js';

const live = await openLiveDeployments(createLogger('warn', 'deployments-test-server'));
const address = await live.app.listen({ host: '127.0.0.1', port: 0 });
process.stdout.write(`listening on ${address}\n`);
process.once('SIGTERM', () => {
  void live.close().finally(() => process.exit(0));
});
