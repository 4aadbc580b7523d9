import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { type DatabasePool, type DatabasePoolOptions, createDatabasePool, sql } from '@postwire/db';

declare module 'fastify' {
  interface FastifyInstance {
    db: DatabasePool;
  }
}

export type DatabasePluginOptions = DatabasePoolOptions & { readonly connectionUri: string };

/** The service's slonik pool: a readiness check, and closed after in-flight requests finish. */
export const databasePlugin = fp(
  async (fastify: FastifyInstance, options: DatabasePluginOptions) => {
    const { connectionUri, ...poolOptions } = options;
    const pool = await createDatabasePool(connectionUri, poolOptions);
    fastify.decorate('db', pool);
    fastify.readiness.register('database', async () => {
      await pool.query(sql.unsafe`SELECT 1`);
    });
    fastify.addHook('onClose', async () => {
      await pool.end();
    });
  },
  { name: '@postwire/database', dependencies: ['@postwire/health'] },
);
