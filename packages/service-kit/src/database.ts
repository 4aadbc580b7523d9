import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { type DatabasePool, type DatabasePoolOptions, createDatabasePool, sql } from '@postwire/db';

declare module 'fastify' {
  interface FastifyInstance {
    db: DatabasePool;
  }
}

export type DatabasePluginOptions = DatabasePoolOptions & { readonly connectionUri: string };

/** A pool named in /readyz by `check`, closed on the app's close. */
export async function openPool(fastify: FastifyInstance, check: string, options: DatabasePluginOptions): Promise<DatabasePool> {
  const { connectionUri, ...poolOptions } = options;
  const pool = await createDatabasePool(connectionUri, poolOptions);
  fastify.readiness.register(check, async () => {
    await pool.query(sql.unsafe`SELECT 1`);
  });
  fastify.addHook('onClose', async () => {
    await pool.end();
  });
  return pool;
}

/** The service's slonik pool: a readiness check, and closed after in-flight requests finish. */
export const databasePlugin = fp(
  async (fastify: FastifyInstance, options: DatabasePluginOptions) => {
    fastify.decorate('db', await openPool(fastify, 'database', options));
  },
  { name: '@postwire/database', dependencies: ['@postwire/health'] },
);
