import Fastify, { type FastifyInstance } from 'fastify';
import { sandboxApp } from './app.ts';
import type { SandboxOptions } from './context.ts';

export type BuiltSandbox = {
  readonly app: FastifyInstance;
  /** Set when `listen` was asked for: e.g. http://127.0.0.1:43121 */
  readonly baseUrl: string | undefined;
  close(): Promise<void>;
};

/**
 * A Fastify instance with the sandbox registered, for tests and benchmarks. `listen: true` binds an
 * ephemeral port on 127.0.0.1, needed when the sandbox must fetch its own media or deliver webhooks.
 */
export async function buildSandbox(options: SandboxOptions & { listen?: boolean; logger?: boolean } = {}): Promise<BuiltSandbox> {
  const app = Fastify({ logger: options.logger ?? false });
  await app.register(sandboxApp, options);
  await app.ready();
  let baseUrl: string | undefined;
  if (options.listen) {
    baseUrl = await app.listen({ port: 0, host: '127.0.0.1' });
    baseUrl = baseUrl.replace('localhost', '127.0.0.1');
  }
  return { app, baseUrl, close: () => app.close() };
}
