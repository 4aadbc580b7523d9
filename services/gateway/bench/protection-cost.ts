// CPU per request of the protection plugin (plugins/protection.ts), in one process: the same small route
// with and without it, driven by autocannon over real HTTP. Noise from a loaded machine hits both alike;
// CPU time is read from process.cpuUsage, so what autocannon itself spends is in both figures.
//
//   node bench/protection-cost.ts            (BENCH_SECONDS=5 BENCH_CONNECTIONS=20)
import autocannon from 'autocannon';
import Fastify from 'fastify';
import { metricsPlugin, problemPlugin } from '@postwire/service-kit';
import { loadConfig } from '@postwire/config';
import { configSchema, everyRateLimitAt } from '../src/config.ts';
import { protectionPlugin } from '../src/plugins/protection.ts';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 20);
const config = loadConfig(configSchema, {
  JWT_SECRET: 'bench-secret-of-at-least-thirty-two-characters',
  TOKEN_ENCRYPTION_KEYS: `bench-1:${Buffer.alloc(32, 1).toString('base64')}`,
  TOKEN_ENCRYPTION_ACTIVE_KEY: 'bench-1',
  GATEWAY_WEB_ORIGINS: 'https://app.example.com',
  ...everyRateLimitAt(10_000_000),
  ...(process.env.REDIS_URL ? { REDIS_URL: process.env.REDIS_URL, GATEWAY_RATE_LIMIT_REDIS_PREFIX: `bench-${process.pid}:` } : {}),
});

async function measure(label: string, protect: boolean) {
  const app = Fastify({ logger: false });
  await app.register(problemPlugin);
  await app.register(metricsPlugin, { service: 'bench', listen: { host: '127.0.0.1', port: 0 } });
  await app.register(async (api) => {
    if (protect) await api.register(protectionPlugin, { ...config.protection, webOrigins: config.webOrigins });
    api.addHook('onRequest', async (request) => {
      request.caller = { userId: 'u', organisationId: 'o' } as typeof request.caller;
    });
    api.get('/v1/me', async () => ({ userId: 'u', organisationId: 'o' }));
  });
  const url = await app.listen({ host: '127.0.0.1', port: 0 });
  await autocannon({ url: `${url}/v1/me`, connections: CONNECTIONS, duration: 1 });
  const before = process.cpuUsage();
  const result = await autocannon({ url: `${url}/v1/me`, connections: CONNECTIONS, duration: SECONDS });
  const cpu = process.cpuUsage(before);
  const requests = result.requests.total;
  console.log(`${label.padEnd(28)} ${String(Math.round(requests / SECONDS)).padStart(7)} req/s  ${((cpu.user + cpu.system) / 1000 / requests).toFixed(3)} ms CPU per request (server and client)  non-2xx ${result.non2xx}`);
  await app.close();
}

for (let round = 0; round < 2; round += 1) {
  await measure('without protection', false);
  await measure('with protection', true);
}
