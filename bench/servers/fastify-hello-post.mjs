// The baseline for the serving benchmarks: bare Fastify receiving the same JSON POST as a model
// server (Fastify's default JSON body parser reads it) and answering a constant hello-world, with
// nothing else (no logger, no hooks, no model). It answers on the routes of the three prediction
// protocols — Kiln `/predict`, MLflow `/invocations`, OIP `/v2/models/<name>/infer` — so one process
// serves as the baseline of each. Plain JavaScript so it runs with no loader, like dist/.
// Prints one line with its URL on stdout once listening; SIGTERM closes it.
import Fastify from 'fastify';

const app = Fastify({ logger: false, bodyLimit: 16 * 1024 * 1024 });
const hello = async () => ({ hello: 'world' });
app.post('/predict', hello);
app.post('/invocations', hello);
app.post('/v2/models/:model/infer', hello);
app.get('/health/live', async () => ({ status: 'ok' }));

const address = await app.listen({ host: process.env.HOST ?? '127.0.0.1', port: Number(process.env.PORT ?? 0) });
process.stdout.write(`fastify hello-world (POST) listening on ${address}\n`);

for (const signal of ['SIGTERM', 'SIGINT']) {
  process.once(signal, () => {
    app.close().then(() => process.exit(0));
  });
}
