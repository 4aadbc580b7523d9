import { randomUUID } from 'node:crypto';
import Fastify, { type FastifyBaseLogger, type FastifyInstance, type FastifyRequest } from 'fastify';
import { inject } from 'vitest';
import type { PostResource } from '@postwire/api';
import { type AuthSettings, type Caller, createJwtVerifier } from '@postwire/auth';
import { postEvents } from '@postwire/contracts';
import { type EventProducer, createEventProducer, createKafkaClient } from '@postwire/kafka';
import { type Observed, uniqueName } from '@postwire/testing';

/**
 * A small, real stand-in for the publisher's (and the accounts service's) read API while the real one
 * is built in parallel: it verifies the forwarded bearer token itself (as the owners do) and answers
 * only what the caller's organisation holds, as RLS would. Every request it served is recorded.
 */
export async function startReadApi(auth: AuthSettings) {
  const verify = createJwtVerifier(auth);
  const posts = new Map<string, PostResource>();
  const accounts = new Map<string, string>();
  const served: { method: string; url: string; organisationId: string }[] = [];
  const callers = new WeakMap<FastifyRequest, Caller>();
  const app: FastifyInstance = Fastify();
  const problem = (status: number, slug: string, title: string) => ({ type: `https://postwire.dev/problems/${slug}`, title, status });

  app.addHook('onRequest', async (request, reply) => {
    const token = /^Bearer (.+)$/.exec(request.headers.authorization ?? '')?.[1];
    try {
      if (!token) throw new Error('no token');
      const caller = await verify(token);
      callers.set(request, caller);
      served.push({ method: request.method, url: request.url, organisationId: caller.organisationId });
    } catch {
      return reply.code(401).type('application/problem+json').send(problem(401, 'unauthorized', 'Unauthorized'));
    }
  });
  const organisationOf = (request: FastifyRequest) => callers.get(request)?.organisationId;

  app.get<{ Params: { postId: string } }>('/v1/posts/:postId', async (request, reply) => {
    const post = posts.get(request.params.postId);
    if (!post || post.organisationId !== organisationOf(request)) return reply.code(404).type('application/problem+json').send(problem(404, 'post-not-found', 'Post not found'));
    // The post's version, as the publisher names it: its updatedAt in microseconds.
    return reply.header('etag', `"${Date.parse(post.updatedAt) * 1000}"`).send(post);
  });
  app.get('/v1/posts', async (request) => ({ data: [...posts.values()].filter((post) => post.organisationId === organisationOf(request)), nextCursor: null }));
  app.get('/v1/content/unposted', async () => ({
    data: [{ id: randomUUID(), prompt: 'a cat', videoUrl: 'https://cdn.example.com/cat.mp4', thumbnailUrl: null, mode: null, status: 'completed', createdAt: '2026-03-01T10:00:00.000Z' }],
    nextCursor: null,
  }));
  app.get<{ Params: { accountId: string } }>('/v1/accounts/:accountId', async (request, reply) => {
    if (accounts.get(request.params.accountId) !== organisationOf(request)) return reply.code(404).type('application/problem+json').send(problem(404, 'account-not-found', 'Account not found'));
    return { id: request.params.accountId };
  });

  const address = await app.listen({ host: '127.0.0.1', port: 0 });
  return {
    url: address,
    served,
    /** Holds a post as the publisher would after accepting it. */
    store(post: PostResource) {
      posts.set(post.id, post);
    },
    addAccount(accountId: string, organisationId: string) {
      accounts.set(accountId, organisationId);
    },
    close: () => app.close(),
  };
}

/** A post resource as the publisher's read API answers it. */
export function postResource(fields: Partial<PostResource> & Pick<PostResource, 'id' | 'organisationId' | 'socialAccountId' | 'createdBy'>): PostResource {
  return {
    platform: 'instagram',
    postType: 'feed',
    facebookFormat: null,
    status: 'queued',
    content: {
      caption: 'Launch day',
      hashtags: [],
      media: [{ position: 0, mediaType: 'image', url: 'https://cdn.example.com/a.jpg' }],
      contentId: null,
      locationId: null,
      link: null,
      shareToFeed: false,
      trialParams: null,
      firstComment: null,
      collaborators: [],
    },
    scheduledFor: '2026-03-08T14:00:00.000Z',
    publishedAt: null,
    platformPostId: null,
    platformUrl: null,
    errorMessage: null,
    retryCount: 0,
    maxRetries: 3,
    metrics: { likes: 0, comments: 0, shares: 0, saves: 0, reach: 0, impressions: 0, plays: 0, engagementRate: null, available: false, lastSyncedAt: null },
    createdAt: '2026-03-01T10:00:00.000Z',
    updatedAt: '2026-03-01T10:00:00.000Z',
    ...fields,
  };
}

/**
 * Answers post requests as the publisher does: post.accepted / post.rejected on this run's post-events
 * topic, encoded by the contracts, naming the request's event id.
 */
export async function startAnswerer(logger: FastifyBaseLogger) {
  const client = createKafkaClient({ brokers: inject('kafkaBrokers'), topicPrefix: inject('kafkaTopicPrefix'), clientId: uniqueName('publisher-stand-in'), logger });
  const producer: EventProducer = createEventProducer(client, { source: '/postwire/publisher' });
  await producer.connect();
  const metadataOf = (request: Observed) => ({
    organisationId: request.headers.ce_organisationid ?? '',
    causationId: request.headers.ce_id,
    correlationId: request.headers.ce_correlationid,
  });
  const target = (request: Observed, postId?: string) => ({
    postId: postId ?? String(request.data.postId),
    socialAccountId: String(request.data.socialAccountId),
    requestId: request.headers.ce_id ?? '',
    requestType: request.headers.ce_type ?? '',
  });
  return {
    async accept(request: Observed, fields: { status: 'draft' | 'queued' | 'processing' | 'published' | 'failed' | 'deleted'; scheduledFor?: string | null; postId?: string }) {
      await producer.publish(postEvents, [
        {
          type: 'post.accepted',
          data: {
            ...target(request, fields.postId),
            status: fields.status,
            platform: 'instagram',
            postType: 'feed',
            scheduledFor: fields.scheduledFor ?? null,
          },
          metadata: metadataOf(request),
        },
      ]);
    },
    async reject(request: Observed, violations: { field: string; code: string; message: string }[], postId?: string) {
      await producer.publish(postEvents, [{ type: 'post.rejected', data: { ...target(request, postId), violations }, metadata: metadataOf(request) }]);
    },
    close: () => producer.disconnect(),
  };
}
