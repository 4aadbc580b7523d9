import { z } from 'zod';
import { defineEvent, defineTopic } from '../define.ts';
import { ErrorInfo, HttpsUrl, Platform, PostMetrics, PostStatus, PostType, Timestamp, Uuid } from '../primitives.ts';
import { postRequests } from './post-requests.ts';

const post = { postId: Uuid, socialAccountId: Uuid };
const bySubject = (data: { postId: string }) => data.postId;
const RequestType = z.enum(postRequests.events.map((event) => event.type) as [string, ...string[]]);

export const postAccepted = defineEvent({
  type: 'post.accepted',
  summary: 'The publisher applied a post request; the gateway answers 201 when this arrives in time.',
  data: z.object({
    ...post,
    requestId: Uuid.describe('ce_id of the request event'),
    requestType: RequestType,
    status: PostStatus,
    platform: Platform,
    postType: PostType,
    scheduledFor: Timestamp.nullable(),
  }),
  subject: bySubject,
});

export const postRejected = defineEvent({
  type: 'post.rejected',
  summary: 'The publisher refused a post request (unknown account, capability missing, wrong state...); the gateway answers 422.',
  data: z.object({
    ...post,
    requestId: Uuid,
    requestType: RequestType,
    violations: z
      .array(z.object({ field: z.string(), code: z.string().min(1), message: z.string().min(1) }))
      .min(1),
  }),
  subject: bySubject,
});

export const postPublishing = defineEvent({
  type: 'post.publishing',
  summary: 'A publisher instance claimed the post and started publishing it.',
  data: z.object({
    ...post,
    platform: Platform,
    postType: PostType,
    attempt: z.int().positive(),
    containerId: z.string().optional().describe('Instagram container, when one exists already (a resumed attempt)'),
  }),
  subject: bySubject,
});

export const postPublished = defineEvent({
  type: 'post.published',
  summary: 'The post is live on the platform.',
  data: z.object({
    ...post,
    platform: Platform,
    postType: PostType,
    contentId: Uuid.nullable().describe('Host video, whose posted_to_social / post_count were updated'),
    platformPostId: z.string().min(1),
    platformUrl: HttpsUrl.nullable(),
    mediaCount: z.int().min(0).max(10).describe('0 for a Facebook text or link post'),
    publishedAt: Timestamp,
  }),
  subject: bySubject,
});

export const postRetrying = defineEvent({
  type: 'post.retrying',
  summary: 'Publishing failed with a retryable error; another attempt is scheduled.',
  data: z.object({
    ...post,
    platform: Platform,
    attempt: z.int().positive(),
    maxRetries: z.int().nonnegative(),
    nextAttemptAt: Timestamp,
    error: ErrorInfo,
  }),
  subject: bySubject,
});

export const postFailed = defineEvent({
  type: 'post.failed',
  summary: 'Publishing failed for good (bad media, token, retries exhausted); the message tells the user what to do.',
  data: z.object({
    ...post,
    platform: Platform,
    attempts: z.int().nonnegative(),
    error: ErrorInfo,
    failedAt: Timestamp,
  }),
  subject: bySubject,
});

export const postDeleted = defineEvent({
  type: 'post.deleted',
  summary: 'The post is deleted; analytics drops its snapshots.',
  data: z.object({
    ...post,
    platform: Platform,
    reason: z.enum(['user-request', 'account-deleted']),
    deletedFromPlatform: z.boolean(),
    deletedAt: Timestamp,
  }),
  subject: bySubject,
});

export const postMetricsUpdated = defineEvent({
  type: 'post.metrics-updated',
  summary: "The publisher applied synced metrics to the post's analytics columns.",
  data: z.object({
    ...post,
    metrics: PostMetrics,
    engagementRate: z.number().min(0).max(999.99).nullable(),
    syncedAt: Timestamp,
  }),
  subject: bySubject,
});

export const postEvents = defineTopic({
  name: 'postwire.post-events.v1',
  id: 'postEventsV1',
  title: 'Post events',
  description: 'Facts about posts, owned by the publisher.',
  kind: 'fact',
  producer: 'publisher',
  consumers: ['gateway', 'analytics'],
  events: [
    postAccepted,
    postRejected,
    postPublishing,
    postPublished,
    postRetrying,
    postFailed,
    postDeleted,
    postMetricsUpdated,
  ],
});
