import { loadConfig } from '@postwire/config';
import { runServer } from '@postwire/service-kit';
import app from './app.ts';
import { configSchema, serverOptionsOf } from './config.ts';

const config = loadConfig(configSchema, process.env);
await runServer({ service: 'gateway', host: config.host, port: config.port, logLevel: config.logLevel, app, appOptions: { config }, fastify: serverOptionsOf(config) });
