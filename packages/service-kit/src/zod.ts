import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { serializerCompiler, validatorCompiler } from 'fastify-type-provider-zod';

/** Route schemas are zod: they validate requests and serialise (and so filter) responses. */
export const zodSchemasPlugin = fp(
  async (fastify: FastifyInstance) => {
    fastify.setValidatorCompiler(validatorCompiler);
    fastify.setSerializerCompiler(serializerCompiler);
  },
  { name: '@postwire/zod-schemas' },
);
