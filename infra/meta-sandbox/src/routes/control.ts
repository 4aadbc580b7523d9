import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { SandboxContext } from '../context.ts';
import { DAY, HOUR, metaTimestamp } from '../domain/clock.ts';
import { containerStatus } from '../domain/publishing.ts';
import { INVALIDATION_REASONS, expiresInSeconds } from '../domain/tokens.ts';
import { faultSchema } from '../plugins/faults.ts';
import { applySeed, seedSchema } from '../state/seed.ts';
import { settingsSchema } from '../state/settings.ts';
import { OBJECT_KINDS } from '../state/store.ts';
import { invalidateTokens, issueUserToken, pageTokenFor } from '../state/tokens.ts';
import { permalinkOf, timelineOf } from './instagram.ts';
import { postPermalink } from './pages.ts';
import { subscribe } from './webhooks.ts';

/**
 * The control API for tests and the local stack, under `/_sandbox`. Answers are plain JSON; problems are
 * RFC 9457 problem+json (see the error handler in app.ts).
 */
const clockBody = z
  .object({
    advanceMs: z.number().min(0).optional(),
    advanceSeconds: z.number().min(0).optional(),
    advanceHours: z.number().min(0).optional(),
    advanceDays: z.number().min(0).optional(),
    to: z.iso.datetime({ offset: true }).optional(),
  })
  .refine((body) => Object.values(body).some((value) => value !== undefined), 'give advanceMs, advanceSeconds, advanceHours, advanceDays or to');

const tokenBody = z.object({
  kind: z.enum(['facebook-user', 'facebook-page', 'instagram-user']),
  appId: z.string().optional(),
  /** The Facebook test user, or the Instagram account for instagram-user tokens. */
  subjectId: z.string(),
  /** For facebook-page tokens. */
  pageId: z.string().optional(),
  scopes: z.array(z.string()).optional(),
  /** Pages/IG accounts granted; defaults to all the user's Pages and their IG accounts. */
  targetIds: z.array(z.string()).optional(),
  longLived: z.boolean().default(true),
});

const invalidateBody = z
  .object({
    token: z.string().optional(),
    subjectId: z.string().optional(),
    appId: z.string().optional(),
    pageId: z.string().optional(),
    reason: z.enum(INVALIDATION_REASONS as [string, ...string[]]).transform((reason) => reason as (typeof INVALIDATION_REASONS)[number]),
  })
  .refine((body) => body.token ?? body.subjectId ?? body.appId ?? body.pageId, 'give token, subjectId, appId or pageId');

const subscriptionBody = z.object({
  appId: z.string().optional(),
  object: z.enum(['instagram', 'page']),
  callbackUrl: z.url(),
  verifyToken: z.string().min(1),
  fields: z.array(z.string()).min(1),
});

export class ControlProblem extends Error {
  readonly status: number;
  constructor(status: number, message: string) {
    super(message);
    this.status = status;
  }
}

export function controlRoutes(app: FastifyInstance, ctx: SandboxContext, operations: ReadonlySet<string>): void {
  const { store, clock } = ctx;
  const defaultApp = (appId: string | undefined) => {
    const found = appId ? store.apps.get(appId) : store.apps.values().next().value;
    if (!found) throw new ControlProblem(404, appId ? `unknown app ${appId}` : 'no app is seeded');
    return found;
  };

  app.get('/_sandbox/health', async () => ({ status: 'ok' }));

  app.get('/_sandbox/state', async () => ({
    now: new Date(clock.now()).toISOString(),
    apps: [...store.apps.values()].map((item) => ({
      id: item.id,
      name: item.name,
      redirectUris: item.redirectUris,
      loginConfigs: Object.fromEntries(item.loginConfigs),
      subscriptions: [...item.subscriptions.values()],
    })),
    users: [...store.users.values()],
    pages: [...store.pages.values()].map((page) => ({ ...page, subscribedApps: Object.fromEntries(page.subscribedApps) })),
    instagramAccounts: [...store.instagramAccounts.values()],
    counts: {
      tokens: store.tokens.size,
      containers: store.containers.size,
      instagramMedia: store.media.size,
      pagePosts: store.posts.size,
    },
  }));

  app.post('/_sandbox/reset', async (request) => {
    const body = z.object({ seed: z.boolean().default(true) }).parse(request.body ?? {});
    ctx.reset(body.seed);
    return { reset: true, seeded: body.seed };
  });

  app.post('/_sandbox/seed', async (request, reply) => reply.code(201).send(applySeed(store, seedSchema.parse(request.body ?? {}))));

  app.get('/_sandbox/clock', async () => ({ now: new Date(clock.now()).toISOString(), epochMs: clock.now(), offsetMs: clock.offsetMs() }));
  app.post('/_sandbox/clock', async (request) => {
    const body = clockBody.parse(request.body ?? {});
    try {
      if (body.to !== undefined) clock.set(Date.parse(body.to));
      clock.advance((body.advanceMs ?? 0) + (body.advanceSeconds ?? 0) * 1000 + (body.advanceHours ?? 0) * HOUR + (body.advanceDays ?? 0) * DAY);
    } catch (error) {
      throw new ControlProblem(409, error instanceof Error ? error.message : String(error));
    }
    return { now: new Date(clock.now()).toISOString(), epochMs: clock.now(), offsetMs: clock.offsetMs() };
  });

  app.get('/_sandbox/settings', async () => ctx.settings);
  app.patch('/_sandbox/settings', async (request) => {
    const patch = settingsSchema.partial().strict().parse(request.body ?? {});
    Object.assign(ctx.settings, patch);
    if (patch.mediaCache === false) ctx.media.clear();
    return ctx.settings;
  });

  app.get('/_sandbox/operations', async () => ({
    operations: [...operations, ...OBJECT_KINDS.flatMap((kind) => [`${kind}.get`, `${kind}.delete`])].sort(),
  }));
  app.get('/_sandbox/faults', async () => ({ faults: ctx.faults.list().map(({ pattern: _pattern, ...fault }) => fault) }));
  app.post('/_sandbox/faults', async (request, reply) => {
    const { pattern: _pattern, ...fault } = ctx.faults.add(faultSchema.parse(request.body));
    return reply.code(201).send(fault);
  });
  app.delete('/_sandbox/faults', async () => {
    ctx.faults.clear();
    return { cleared: true };
  });
  app.delete<{ Params: { id: string } }>('/_sandbox/faults/:id', async (request) => {
    if (!ctx.faults.remove(Number(request.params.id))) throw new ControlProblem(404, `no fault ${request.params.id}`);
    return { removed: true };
  });

  app.post('/_sandbox/tokens', async (request, reply) => {
    const body = tokenBody.parse(request.body);
    const owner = defaultApp(body.appId);
    const now = clock.now();
    if (body.kind === 'instagram-user') {
      if (!store.instagramAccounts.has(body.subjectId)) throw new ControlProblem(404, `unknown Instagram account ${body.subjectId}`);
      const token = issueUserToken(store, now, {
        kind: 'instagram-user',
        appId: owner.id,
        subjectId: body.subjectId,
        scopes: body.scopes ?? ['instagram_business_basic', 'instagram_business_content_publish', 'instagram_business_manage_comments', 'instagram_business_manage_insights'],
        targetIds: [body.subjectId],
        longLived: body.longLived,
      });
      return reply.code(201).send({ access_token: token.value, expires_in: expiresInSeconds(token, now), kind: token.kind });
    }
    const user = store.users.get(body.subjectId);
    if (!user) throw new ControlProblem(404, `unknown Facebook test user ${body.subjectId}`);
    const allTargets = user.pageIds.flatMap((pageId) => [pageId, store.pages.get(pageId)?.instagramAccountId ?? []].flat());
    const userToken = issueUserToken(store, now, {
      kind: 'facebook-user',
      appId: owner.id,
      subjectId: user.id,
      scopes: body.scopes ?? ['public_profile', 'pages_show_list', 'pages_read_engagement', 'pages_manage_posts', 'publish_video', 'read_insights', 'business_management', 'instagram_basic', 'instagram_content_publish', 'instagram_manage_insights', 'instagram_manage_comments', 'instagram_manage_contents'],
      targetIds: body.targetIds ?? allTargets,
      longLived: body.longLived,
    });
    if (body.kind === 'facebook-user') {
      return reply.code(201).send({ access_token: userToken.value, expires_in: expiresInSeconds(userToken, now), kind: userToken.kind });
    }
    if (!body.pageId || !user.pageIds.includes(body.pageId)) throw new ControlProblem(400, 'facebook-page tokens need a pageId the user manages');
    const pageToken = pageTokenFor(store, now, userToken, body.pageId);
    return reply.code(201).send({ access_token: pageToken.value, expires_in: expiresInSeconds(pageToken, now), kind: pageToken.kind, user_access_token: userToken.value });
  });

  app.post('/_sandbox/tokens/invalidate', async (request) => {
    const body = invalidateBody.parse(request.body);
    return { invalidated: invalidateTokens(store, clock.now(), body, body.reason) };
  });

  app.get<{ Params: { id: string } }>('/_sandbox/instagram/:id/media', async (request) => {
    if (!store.instagramAccounts.has(request.params.id)) throw new ControlProblem(404, `unknown Instagram account ${request.params.id}`);
    const media = [...store.media.values()].filter((item) => item.igUserId === request.params.id && item.parentId === undefined);
    return {
      media: media.map((item) => ({
        id: item.id,
        containerId: item.containerId,
        mediaType: item.mediaType,
        mediaProductType: item.productType,
        caption: item.caption,
        children: item.childIds,
        collaborators: item.collaborators,
        permalink: permalinkOf(ctx, item),
        publishedAt: metaTimestamp(item.publishedAt),
        deleted: item.deletedAt !== undefined,
        comments: item.commentIds.map((id) => store.comments.get(id)?.text),
      })),
    };
  });

  app.get<{ Params: { id: string } }>('/_sandbox/instagram/:id/containers', async (request) => ({
    containers: [...store.containers.values()]
      .filter((container) => container.igUserId === request.params.id)
      .map((container) => ({
        id: container.id,
        kind: container.request.kind,
        ...containerStatus(timelineOf(ctx, container), clock.now()),
        createdAt: metaTimestamp(container.createdAt),
        mediaId: container.mediaId,
      })),
  }));

  app.post<{ Params: { id: string } }>('/_sandbox/containers/:id/fail', async (request) => {
    const container = store.containers.get(request.params.id);
    if (!container) throw new ControlProblem(404, `unknown container ${request.params.id}`);
    const body = z.object({ subcode: z.number().int().default(2207001), emptyStatusCode: z.boolean().default(false) }).parse(request.body ?? {});
    container.errorSubcode = body.subcode;
    container.emptyStatusCode = body.emptyStatusCode;
    return { id: container.id, ...containerStatus(timelineOf(ctx, container), clock.now()) };
  });

  app.get<{ Params: { id: string } }>('/_sandbox/pages/:id/posts', async (request) => {
    if (!store.pages.has(request.params.id)) throw new ControlProblem(404, `unknown Page ${request.params.id}`);
    return {
      posts: [...store.posts.values()]
        .filter((post) => post.pageId === request.params.id)
        .map((post) => ({
          id: post.id,
          kind: post.kind,
          message: post.message,
          link: post.link,
          photoIds: post.photoIds,
          videoId: post.videoId,
          published: post.published,
          publishAt: metaTimestamp(post.publishAt),
          createdAt: metaTimestamp(post.createdAt),
          permalinkUrl: postPermalink(post),
          deleted: post.deletedAt !== undefined,
        })),
    };
  });

  app.post('/_sandbox/webhooks/subscriptions', async (request, reply) => {
    const body = subscriptionBody.parse(request.body);
    const owner = defaultApp(body.appId);
    await subscribe(ctx, owner, { object: body.object, callback_url: body.callbackUrl, verify_token: body.verifyToken, fields: body.fields });
    return reply.code(201).send({ success: true, appId: owner.id });
  });
  app.get('/_sandbox/webhooks/deliveries', async () => ({ deliveries: ctx.webhooks.deliveries() }));
  app.post<{ Params: { id: string } }>('/_sandbox/webhooks/deliveries/:id/repeat', async (request) => {
    const delivery = await ctx.webhooks.repeat(Number(request.params.id));
    if (!delivery) throw new ControlProblem(404, `no delivery ${request.params.id}`);
    return delivery;
  });
  app.delete('/_sandbox/webhooks/deliveries', async () => {
    ctx.webhooks.clear();
    return { cleared: true };
  });
}
