import { randomUUID } from 'node:crypto';
import closeWithGrace from 'close-with-grace';
import Fastify, { type FastifyPluginAsync, type FastifyPluginOptions, type FastifyServerOptions } from 'fastify';
import { destination } from 'pino';
import { loggerOptions } from './logger.ts';
import { problemServerOptions } from './problem.ts';

export type ServerSettings<Options extends FastifyPluginOptions> = {
  readonly service: string;
  readonly host: string;
  readonly port: number;
  readonly logLevel: string;
  /** The whole service as one plugin (its src/app.ts). */
  readonly app: FastifyPluginAsync<Options>;
  readonly appOptions: Options;
  readonly shutdownGraceMs?: number;
  readonly fastify?: Omit<FastifyServerOptions, 'logger'>;
};

/**
 * The body of every service's src/server.ts, the only process entry: create, register the app,
 * close with grace on SIGTERM/SIGINT (stop taking requests, finish in-flight work, run onClose
 * hooks: consumers, outbox flush, pools), listen.
 */
export async function runServer<Options extends FastifyPluginOptions>(settings: ServerSettings<Options>) {
  const logger = loggerOptions({ service: settings.service, level: settings.logLevel });
  const fastify = Fastify({
    ...problemServerOptions,
    ...settings.fastify,
    // Lines go out asynchronously: those logged while a write is under way leave together in the next one, instead
    // of a blocking write(2) per line (two per request at info). pino flushes what is left when the process exits.
    logger: { ...(typeof logger === 'object' ? logger : {}), stream: destination({ dest: 1, sync: false }) },
    // Unique across services and restarts (Fastify's default is a per-process counter: every service has a req-1).
    genReqId: () => randomUUID(),
  });
  await fastify.register(settings.app, settings.appOptions);
  closeWithGrace({ delay: settings.shutdownGraceMs ?? 10_000 }, async ({ signal, err }) => {
    if (err) fastify.log.error({ err }, 'shutting down after an unexpected error');
    else fastify.log.info({ signal }, 'shutting down');
    await fastify.close();
  });
  await fastify.listen({ host: settings.host, port: settings.port });
  return fastify;
}
