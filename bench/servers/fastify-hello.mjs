// The baseline for HTTP benchmarks: bare Fastify answering the same route as Kiln's liveness probe,
// with nothing else (no logger, no hooks). Plain JavaScript so it runs with no loader, like dist/.
// Prints one line with its URL on stdout once listening; SIGTERM closes it.
import Fastify from 'fastify';

const app = Fastify({ logger: false });
app.get('/health/live', async () => ({ status: 'ok' }));

const address = await app.listen({ host: process.env.HOST ?? '127.0.0.1', port: Number(process.env.PORT ?? 0) });
process.stdout.write(`fastify hello-world listening on ${address}\n`);

for (const signal of ['SIGTERM', 'SIGINT']) {
  process.once(signal, () => {
    app.close().then(() => process.exit(0));
  });
}
