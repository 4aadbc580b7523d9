import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { jsonSchemaTransform } from 'fastify-type-provider-zod';
import { zodSchemasPlugin } from '@postwire/service-kit';

export type OpenApiOptions = { readonly publicUrl: string; readonly version: string };

/**
 * Route schemas are zod: they validate requests, serialise responses and are the OpenAPI document
 * (served at /openapi.json, browsable at /docs). Only routes with tags are published.
 */
export const openApiPlugin = fp(
  async (fastify: FastifyInstance, options: OpenApiOptions) => {
    await fastify.register(zodSchemasPlugin);
    await fastify.register(swagger, {
      openapi: {
        openapi: '3.1.0',
        info: {
          title: 'Postwire API',
          version: options.version,
          description:
            'Connect Instagram professional accounts and Facebook Pages, schedule and publish posts, follow how they perform. ' +
            'Errors are RFC 9457 problem details (application/problem+json).',
        },
        servers: [{ url: options.publicUrl }],
        components: {
          securitySchemes: { bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } },
        },
        security: [{ bearer: [] }],
      },
      hideUntagged: true,
      transform: jsonSchemaTransform,
    });
    await fastify.register(swaggerUi, { routePrefix: '/docs' });
    fastify.get('/openapi.json', { logLevel: 'warn' }, async () => fastify.swagger());
  },
  { name: '@postwire/gateway-openapi', dependencies: ['@postwire/problem'] },
);
