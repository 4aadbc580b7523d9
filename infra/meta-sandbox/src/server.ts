import { loadConfig } from '@postwire/config';
import closeWithGrace from 'close-with-grace';
import Fastify from 'fastify';
import { sandboxApp } from './app.ts';
import { sandboxConfigSchema } from './config.ts';
import { sandboxLoggerOptions } from './logging.ts';
import { optionsFromConfig } from './options.ts';

const config = loadConfig(sandboxConfigSchema, process.env);

const app = Fastify({ logger: sandboxLoggerOptions(config.META_SANDBOX_LOG_LEVEL) });

await app.register(sandboxApp, optionsFromConfig(config));

closeWithGrace({ delay: 10_000 }, async ({ err }) => {
  if (err) app.log.error({ err }, 'closing the Meta sandbox after an error');
  await app.close();
});

await app.listen({ port: config.META_SANDBOX_PORT, host: config.META_SANDBOX_HOST });
