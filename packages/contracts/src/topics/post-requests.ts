import { z } from 'zod';
import { defineEvent, defineTopic } from '../define.ts';
import { PostChanges, PostContent, Timestamp, Uuid } from '../primitives.ts';

const target = {
  postId: Uuid.describe('Assigned by the gateway; derived from (organisation, Idempotency-Key) when one is sent'),
  socialAccountId: Uuid,
};
const bySubject = (data: { postId: string }) => data.postId;
const requestHash = z
  .string()
  .regex(/^[a-f0-9]{64}$/)
  .optional()
  .describe('SHA-256 of the request body when an Idempotency-Key was sent: the same key with another body is refused');
const expectedVersion = z
  .string()
  .regex(/^\d{1,20}$/)
  .optional()
  .describe(
    "If-Match: the post's version (the opaque part of its ETag) the request was made against. The publisher applies the " +
      'request only while the post is still at it, and otherwise refuses it with the violation `precondition-failed`',
  );

export const postDrafted = defineEvent({
  type: 'post.drafted',
  summary: 'A user created a draft post.',
  data: z.object({ ...target, content: PostContent, requestHash }),
  subject: bySubject,
});

export const postScheduled = defineEvent({
  type: 'post.scheduled',
  summary: 'A user scheduled a post: a new one (content given) or an existing draft (content omitted).',
  data: z.object({ ...target, scheduledFor: Timestamp, content: PostContent.optional(), requestHash, expectedVersion }),
  subject: bySubject,
});

export const postUpdated = defineEvent({
  type: 'post.updated',
  summary: 'A user changed a draft or queued post; only the fields that change are present.',
  data: z.object({
    ...target,
    changes: PostChanges,
    scheduledFor: Timestamp.nullable().optional().describe('null unschedules (back to draft)'),
    expectedVersion,
  }),
  subject: bySubject,
});

export const postPublishRequested = defineEvent({
  type: 'post.publish-requested',
  summary: 'A user asked to publish a post now.',
  data: z.object({ ...target, expectedVersion }),
  subject: bySubject,
});

export const postCancelled = defineEvent({
  type: 'post.cancelled',
  summary: 'A user cancelled a queued post; it goes back to draft.',
  data: z.object({ ...target, reason: z.string().max(500).optional(), expectedVersion }),
  subject: bySubject,
});

export const postDeleteRequested = defineEvent({
  type: 'post.delete-requested',
  summary: 'A user asked to delete a post, optionally from the platform too.',
  data: z.object({ ...target, deleteFromPlatform: z.boolean(), expectedVersion }),
  subject: bySubject,
});

export const postRetryRequested = defineEvent({
  type: 'post.retry-requested',
  summary: 'A user asked to publish a failed post again (retry_count starts over).',
  data: z.object({ ...target, expectedVersion }),
  subject: bySubject,
});

export const accountPostsRetryRequested = defineEvent({
  type: 'post.account-retry-requested',
  summary: "A user asked to retry every failed post of an account (after a reconnect); each one answers post.accepted.",
  data: z.object({ socialAccountId: Uuid }),
});

export const postRequests = defineTopic({
  name: 'postwire.post-requests.v1',
  id: 'postRequestsV1',
  title: 'Post requests',
  description: 'Commands about posts, accepted by the gateway on behalf of a user; the publisher answers on post events.',
  kind: 'request',
  producer: 'gateway',
  consumers: ['publisher'],
  events: [
    postDrafted,
    postScheduled,
    postUpdated,
    postPublishRequested,
    postCancelled,
    postDeleteRequested,
    postRetryRequested,
    accountPostsRetryRequested,
  ],
});
