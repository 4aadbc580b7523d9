import type { FastifyInstance } from 'fastify';
import type { SandboxContext } from '../context.ts';
import { errors } from '../domain/errors.ts';
import { WEBHOOK_FIELDS, type WebhookObject } from '../domain/webhooks.ts';
import { list, str, type Params } from '../domain/publishing.ts';
import type { App } from '../state/store.ts';
import { authenticateApp, readParams } from './graph-access.ts';

/**
 * App webhook subscriptions, as Meta's `/{app-id}/subscriptions` edge: subscribing runs the verification
 * handshake against the callback first, and only a verified callback receives deliveries.
 */
export async function subscribe(ctx: SandboxContext, app: App, params: Params): Promise<{ success: true }> {
  const object = str(params, 'object');
  if (object !== 'instagram' && object !== 'page') throw errors.invalidParameter('object must be instagram or page');
  const callbackUrl = str(params, 'callback_url');
  if (!callbackUrl) throw errors.missingParameter('callback_url');
  const verifyToken = str(params, 'verify_token');
  if (!verifyToken) throw errors.missingParameter('verify_token');
  const fields = list(params, 'fields');
  if (fields.length === 0) throw errors.missingParameter('fields');
  const unknown = fields.filter((field) => !WEBHOOK_FIELDS[object].includes(field));
  if (unknown.length > 0) throw errors.invalidParameter(`Unknown ${object} webhook fields: ${unknown.join(', ')}`);
  await ctx.webhooks.verify(callbackUrl, verifyToken);
  app.subscriptions.set(object, { object, callbackUrl, verifyToken, fields, verifiedAt: ctx.clock.now() });
  return { success: true };
}

export function webhookRoutes(app: FastifyInstance, ctx: SandboxContext): void {
  type WithId = { Params: { id: string } };
  const appFor = (id: string, found: App) => {
    if (found.id !== id) throw errors.unsupported('get', id);
    return found;
  };

  app.post<WithId>('/:id/subscriptions', { config: { operation: 'app.subscriptions' } }, async (request, reply) => {
    const params = readParams(request);
    const found = appFor(request.params.id, authenticateApp(ctx, request, reply, params));
    return subscribe(ctx, found, params);
  });

  app.get<WithId>('/:id/subscriptions', { config: { operation: 'app.subscriptions' } }, async (request, reply) => {
    const found = appFor(request.params.id, authenticateApp(ctx, request, reply, readParams(request)));
    return {
      data: [...found.subscriptions.values()].map((subscription) => ({
        object: subscription.object,
        callback_url: subscription.callbackUrl,
        active: true,
        fields: subscription.fields.map((name) => ({ name, version: 'v25.0' })),
      })),
    };
  });

  app.delete<WithId>('/:id/subscriptions', { config: { operation: 'app.subscriptions' } }, async (request, reply) => {
    const params = readParams(request);
    const found = appFor(request.params.id, authenticateApp(ctx, request, reply, params));
    const object = str(params, 'object') as WebhookObject | undefined;
    if (object === undefined) found.subscriptions.clear();
    else found.subscriptions.delete(object);
    return { success: true };
  });
}
