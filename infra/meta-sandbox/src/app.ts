import formbody from '@fastify/formbody';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { setTimeout as sleep } from 'node:timers/promises';
import { ZodError } from 'zod';
import { createContext, type SandboxContext, type SandboxOptions } from './context.ts';
import { GraphError, errors, graphErrorBody } from './domain/errors.ts';
import { faultError, type Fault } from './plugins/faults.ts';
import { objectKind } from './state/store.ts';
import { ControlProblem, controlRoutes } from './routes/control.ts';
import { insightsRoutes } from './routes/insights.ts';
import { instagramRoutes } from './routes/instagram.ts';
import { InstagramOAuthError, facebookCodeExchangeRoutes, loginGraphRoutes, loginRootRoutes } from './routes/login.ts';
import { mediaRoutes } from './routes/media.ts';
import { nodeRoutes } from './routes/nodes.ts';
import { pageRoutes } from './routes/pages.ts';
import { uploadRoutes } from './routes/uploads.ts';
import { webhookRoutes } from './routes/webhooks.ts';

declare module 'fastify' {
  interface FastifyInstance {
    sandbox: SandboxContext;
  }
  interface FastifyContextConfig {
    /** Names the operation for fault injection and the control API's operation list. */
    operation?: string;
  }
  interface FastifyRequest {
    sandboxFault: Fault | undefined;
  }
}

/** Versions the sandbox answers, like Meta's currently supported range. */
const MIN_VERSION = 19;
const MAX_VERSION = 27;

function isControl(request: FastifyRequest): boolean {
  return request.url.startsWith('/_sandbox/');
}

function problem(reply: FastifyReply, status: number, title: string, detail: string, extra: Record<string, unknown> = {}) {
  return reply.code(status).type('application/problem+json').send({ type: 'about:blank', title, status, detail, ...extra });
}

function operationOf(ctx: SandboxContext, request: FastifyRequest): string {
  const operation = request.routeOptions.config.operation ?? 'unknown';
  if (operation !== 'node.get' && operation !== 'node.delete') return operation;
  const id = (request.params as { id?: string }).id ?? '';
  return `${objectKind(ctx.store, id) ?? 'unknown'}.${operation === 'node.get' ? 'get' : 'delete'}`;
}

function resetSocket(request: FastifyRequest): void {
  const socket = request.raw.socket as (typeof request.raw.socket & { resetAndDestroy?: () => void }) | null;
  if (!socket) return;
  if (typeof socket.resetAndDestroy === 'function') socket.resetAndDestroy();
  else socket.destroy();
}

async function hold(request: FastifyRequest, ms: number): Promise<void> {
  const closed = new Promise<void>((resolve) => request.raw.socket?.once('close', () => resolve()));
  await Promise.race([closed, sleep(ms)]);
}

/**
 * The whole sandbox as one Fastify plugin: state, error shapes, fault injection, and every host's routes
 * (Graph with and without `/{version}`, Instagram OAuth, rupload, the media host and the control API).
 */
async function sandbox(app: FastifyInstance, options: SandboxOptions): Promise<void> {
  const ctx = createContext(options, app.log);
  app.decorate('sandbox', ctx);
  app.decorateRequest('sandboxFault', undefined);
  app.addHook('onClose', async () => ctx.webhooks.close());
  await app.register(formbody);

  const operations = new Set<string>();
  app.addHook('onRoute', (route) => {
    const operation = route.config?.operation;
    if (operation && operation !== 'node.get' && operation !== 'node.delete') operations.add(operation);
  });

  app.setErrorHandler((error: FastifyError | GraphError | InstagramOAuthError | ZodError | ControlProblem, request, reply) => {
    if (error instanceof GraphError) return reply.code(error.httpStatus).send(graphErrorBody(error));
    if (error instanceof InstagramOAuthError) {
      return reply.code(400).send({ error_type: error.errorType, code: 400, error_message: error.message });
    }
    if (error instanceof ControlProblem) return problem(reply, error.status, 'Request failed', error.message);
    if (error instanceof ZodError) {
      return problem(reply, 400, 'Invalid request', 'The request body or query does not match the schema.', {
        issues: error.issues.map((issue) => ({ path: issue.path.join('.'), message: issue.message })),
      });
    }
    const status = 'statusCode' in error && typeof error.statusCode === 'number' ? error.statusCode : 500;
    if (status < 500) {
      if (isControl(request)) return problem(reply, status, 'Bad request', error.message);
      return reply.code(400).send(graphErrorBody(errors.invalidParameter(error.message)));
    }
    request.log.error({ err: error }, 'unhandled error');
    if (isControl(request)) return problem(reply, 500, 'Internal error', 'The sandbox failed; see its log.');
    return reply.code(500).send(graphErrorBody(new GraphError({ code: 1, message: 'An unknown error has occurred.', isTransient: true })));
  });

  app.setNotFoundHandler((request, reply) => {
    if (isControl(request)) return problem(reply, 404, 'Not found', `No control route ${request.method} ${request.url.split('?')[0]}`);
    return reply.code(400).send(graphErrorBody(errors.unknownPath(request.url.split('?')[0] ?? '/')));
  });

  app.addHook('onRequest', async (request, reply) => {
    if (!ctx.faults.active || isControl(request)) return;
    const fault = ctx.faults.take({ operation: operationOf(ctx, request), method: request.method, path: request.url.split('?')[0] ?? '/' });
    if (!fault) return;
    request.log.info({ fault: fault.id, kind: fault.kind }, 'injecting fault');
    if (fault.latencyMs) await sleep(fault.latencyMs);
    switch (fault.kind) {
      case 'latency':
        return;
      case 'error':
        throw faultError(fault);
      case 'timeout':
        reply.hijack();
        await hold(request, fault.holdMs);
        resetSocket(request);
        return;
      case 'drop':
        reply.hijack();
        resetSocket(request);
        return;
      case 'drop-after-apply':
      case 'timeout-after-apply':
      case 'error-after-apply':
        request.sandboxFault = fault;
        return;
    }
  });

  app.addHook('onSend', async (request, reply, payload) => {
    const fault = request.sandboxFault;
    if (!fault) return payload;
    if (fault.kind === 'error-after-apply') {
      // The write already happened; only the answer lies (Meta's code 2 on a created Page post, 4/2207051 on a
      // live media_publish). A request that failed by itself keeps its own answer.
      if (reply.statusCode >= 400) return payload;
      const error = faultError(fault);
      reply.code(error.httpStatus).type('application/json; charset=utf-8');
      return JSON.stringify(graphErrorBody(error));
    }
    if (fault.kind === 'timeout-after-apply') await hold(request, fault.holdMs);
    resetSocket(request);
    return payload;
  });

  const graph = async (scope: FastifyInstance) => {
    loginGraphRoutes(scope, ctx);
    instagramRoutes(scope, ctx);
    pageRoutes(scope, ctx);
    insightsRoutes(scope, ctx);
    webhookRoutes(scope, ctx);
    nodeRoutes(scope, ctx);
  };
  await app.register(graph);
  await app.register(
    async (scope) => {
      scope.addHook('onRequest', async (request) => {
        const version = (request.params as { version?: string }).version ?? '';
        const match = /^v(\d+)\.0$/.exec(version);
        if (match) {
          const major = Number(match[1]);
          if (major >= MIN_VERSION && major <= MAX_VERSION) return;
          throw errors.unsupportedVersion(version, `v${MAX_VERSION}.0`);
        }
        if (/^v\d+\.\d+$/.test(version)) throw errors.unsupportedVersion(version, `v${MAX_VERSION}.0`);
        throw errors.unknownPath(request.url.split('?')[0] ?? '/');
      });
      await graph(scope);
      // Only under a version: unversioned POST /oauth/access_token is api.instagram.com's code exchange.
      facebookCodeExchangeRoutes(scope, ctx);
    },
    { prefix: '/:version' },
  );
  await app.register(async (scope) => {
    loginRootRoutes(scope, ctx);
    uploadRoutes(scope, ctx);
    mediaRoutes(scope);
    controlRoutes(scope, ctx, operations);
  });
}

export const sandboxApp = fp(sandbox, { name: '@postwire/meta-sandbox', fastify: '5.x' });
