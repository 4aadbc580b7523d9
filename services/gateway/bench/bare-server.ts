// The yardstick: a bare Fastify route answering the same JSON as GET /v1/me, no logging, no plugins,
// in a process of its own, so it is measured on the same machine in the same run as the gateway.
import Fastify from 'fastify';

const port = Number(process.env.BARE_PORT ?? 0);
const body = { userId: process.env.BARE_USER_ID ?? '', organisationId: process.env.BARE_ORGANISATION_ID ?? '' };
const fastify = Fastify({ logger: false });
fastify.get('/v1/me', async () => body);
fastify.get('/healthz', async () => ({ status: 'ok' }));
await fastify.listen({ host: '127.0.0.1', port });
