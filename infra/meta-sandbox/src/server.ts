import { loadConfig } from '@postwire/config';
import closeWithGrace from 'close-with-grace';
import Fastify from 'fastify';
import { sandboxApp } from './app.ts';
import { sandboxConfigSchema } from './config.ts';
import { optionsFromConfig } from './options.ts';

const SECRET_PARAMS = /([?&](?:access_token|client_secret|code|fb_exchange_token|input_token)=)[^&]*/g;

const config = loadConfig(sandboxConfigSchema, process.env);

const app = Fastify({
  logger: {
    level: config.META_SANDBOX_LOG_LEVEL,
    redact: ['req.headers.authorization'],
    serializers: {
      req: (request: { method: string; url: string; hostname?: string }) => ({
        method: request.method,
        url: request.url.replace(SECRET_PARAMS, '$1[redacted]'),
      }),
    },
  },
});

await app.register(sandboxApp, optionsFromConfig(config));

closeWithGrace({ delay: 10_000 }, async ({ err }) => {
  if (err) app.log.error({ err }, 'closing the Meta sandbox after an error');
  await app.close();
});

await app.listen({ port: config.META_SANDBOX_PORT, host: config.META_SANDBOX_HOST });
