/**
 * Hot swap under load (part of bench/serve.ts): the real `kiln server` (dist/, KILN_HOME in a temp
 * dir, pinned to core 0) with a GBDT registered twice — the package uploaded as two run artifacts
 * and registered as versions 1 and 2 through the SDK — and a deployment following
 * `models:/<name>@champion` created through `POST /api/v1/deployments`. autocannon (core 1) loads
 * `/serve/<deployment>/predict` while this process moves the alias between the versions through the
 * registry API a few times and a probe (one request at a time) records which version answers.
 * Every request must succeed, and every move must show in the answers.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { KilnClient } from '../src/sdk/index.js';
import { rssMb, startKiln } from './lib/kiln.js';
import { runLoad } from './lib/load.js';
import { progress, round } from './lib/result.js';

const MODEL = 'bench-gbdt';
const DEPLOYMENT = 'gbdt';
const JSON_HEADERS = { 'content-type': 'application/json' };
/** Pause between probe requests, so the probe stays a trickle beside the load. */
const PROBE_PAUSE_MS = 5;
/** Longest wait for a move to show in the answers before it is reported as not seen. */
const SWITCH_TIMEOUT_MS = 15_000;

/** One alias move and how long it took to show. */
export interface AliasMove {
  to: string;
  /** The registry call (PUT alias) in ms. */
  setMs: number;
  /** From the call to the first probe answer by the new version, ms; null when never seen. */
  switchMs: number | null;
}

/** What the swap run saw. */
export interface SwapFigures {
  deployment: string;
  follows: string;
  connections: number;
  durationSec: number;
  /** autocannon's figures: every answer counted, failures included. */
  requests: number;
  requestsPerSec: number;
  latencyP50Ms: number;
  latencyP99Ms: number;
  non2xx: number;
  socketErrors: number;
  probe: { requests: number; failures: number; failureSamples: string[]; versions: Record<string, number> };
  moves: AliasMove[];
  /** True when every move was seen answering and more than one version answered. */
  versionChanged: boolean;
  serverRssMb: { rssMb: number; peakRssMb: number } | null;
}

export interface SwapOptions {
  scratch: string;
  packageDir: string;
  bodyFile: string;
  connections: number;
  durationSec: number;
  warmupSec: number;
  /** How many times the alias moves during the load. */
  moves: number;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Runs the swap under load against a fresh `kiln server`, stopping it afterwards. */
export async function swapUnderLoad(options: SwapOptions): Promise<SwapFigures> {
  const server = await startKiln({
    home: join(options.scratch, 'swap-home'),
    logFile: join(options.scratch, 'swap.log'),
  });
  try {
    const kiln = new KilnClient({ baseUrl: server.url });
    const run = await kiln.tracking.createRun('0', { runName: 'bench-serve-swap' });
    const runId = run.info.run_id;
    const versions: string[] = [];
    for (const path of ['model-a', 'model-b']) {
      await kiln.tracking.artifacts.uploadDirectory(runId, options.packageDir, path);
      const created = await kiln.registry.registerModel(MODEL, `runs:/${runId}/${path}`, { runId });
      versions.push(String(created.version));
    }
    const [first, second] = versions as [string, string];
    await kiln.registry.setAlias(MODEL, 'champion', first);
    const follows = `models:/${MODEL}@champion`;
    await kiln.deployments.create({ name: DEPLOYMENT, targets: [{ model: follows }] });
    const url = `${server.url}/serve/${DEPLOYMENT}/predict`;
    const body = readFileSync(options.bodyFile);
    const predict = async (): Promise<{ status: number; version?: string; text: string }> => {
      const response = await fetch(url, { method: 'POST', headers: JSON_HEADERS, body });
      const text = await response.text();
      if (!response.ok) return { status: response.status, text };
      return { status: response.status, version: (JSON.parse(text) as { version: string }).version, text };
    };
    const smoke = await predict();
    if (smoke.version !== first) throw new Error(`swap: expected version ${first} to answer first, got ${smoke.text}`);
    const load = { url, connections: options.connections, core: 1, method: 'POST', bodyFile: options.bodyFile };
    if (options.warmupSec > 0)
      await runLoad({ ...load, headers: JSON_HEADERS, durationSec: options.warmupSec, tool: 'autocannon' });

    progress(
      `swap: ${options.durationSec} s of load at ${options.connections} connections on ${url}, ${options.moves} alias moves`,
    );
    const loading = runLoad({
      ...load,
      headers: JSON_HEADERS,
      durationSec: options.durationSec,
      tool: 'autocannon',
      allowFailures: true,
    });
    // Awaited after the moves; until then a failed run must not be an unhandled rejection.
    loading.catch(() => undefined);
    // The probe runs until the load is over and every move has shown (or timed out), so a move
    // late in the run is still checked.
    let probeStopped = false;
    const probe = { requests: 0, failures: 0, failureSamples: [] as string[], versions: {} as Record<string, number> };
    let latest: { version: string; at: number } | undefined;
    const probing = (async () => {
      while (!probeStopped) {
        try {
          const answer = await predict();
          probe.requests++;
          if (answer.version === undefined) {
            probe.failures++;
            if (probe.failureSamples.length < 5)
              probe.failureSamples.push(`${answer.status}: ${answer.text.slice(0, 200)}`);
          } else {
            probe.versions[answer.version] = (probe.versions[answer.version] ?? 0) + 1;
            latest = { version: answer.version, at: performance.now() };
          }
        } catch (err) {
          probe.failures++;
          if (probe.failureSamples.length < 5) probe.failureSamples.push(String(err));
        }
        await sleep(PROBE_PAUSE_MS);
      }
    })();

    const moves: AliasMove[] = [];
    const interval = (options.durationSec * 1000) / (options.moves + 1);
    const started = performance.now();
    for (let i = 0; i < options.moves; i++) {
      const due = started + interval * (i + 1);
      await sleep(Math.max(0, due - performance.now()));
      const to = i % 2 === 0 ? second : first;
      const before = performance.now();
      await kiln.registry.setAlias(MODEL, 'champion', to);
      const setMs = performance.now() - before;
      let switchMs: number | null = null;
      while (performance.now() - before < SWITCH_TIMEOUT_MS) {
        const seen = latest;
        if (seen !== undefined && seen.version === to && seen.at > before) {
          switchMs = seen.at - before;
          break;
        }
        await sleep(2);
      }
      moves.push({ to, setMs: round(setMs), switchMs: switchMs === null ? null : round(switchMs) });
      progress(
        `swap: @champion → version ${to}: set in ${setMs.toFixed(1)} ms, answering after ${switchMs?.toFixed(0) ?? '—'} ms`,
      );
    }
    let result: Awaited<typeof loading>;
    try {
      result = await loading;
    } finally {
      probeStopped = true;
      await probing;
    }
    const serverRssMb = rssMb(server.pid);
    const seenVersions = Object.keys(probe.versions);
    return {
      deployment: DEPLOYMENT,
      follows,
      connections: options.connections,
      durationSec: options.durationSec,
      requests: result.requests,
      requestsPerSec: round(result.requestsPerSec),
      latencyP50Ms: result.latencyP50Ms,
      latencyP99Ms: result.latencyP99Ms,
      non2xx: result.non2xx ?? 0,
      socketErrors: result.errors ?? 0,
      probe,
      moves,
      versionChanged: seenVersions.length > 1 && moves.length > 0 && moves.every((m) => m.switchMs !== null),
      serverRssMb,
    };
  } finally {
    const code = await server.stop();
    if (code !== 0) progress(`swap: kiln server exited with code ${code} after SIGTERM`);
  }
}
