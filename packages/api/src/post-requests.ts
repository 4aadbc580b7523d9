import { z } from 'zod';
import { PostChanges, PostContent, PostStatus, PostType, Platform } from '@postwire/contracts';
import { offsetInstant } from './instant.ts';

/**
 * Request bodies of the posts API. Each is the contracts' PostContent (or PostChanges) extended, never
 * a copy: what the API accepts is what the request event can carry, so the two cannot drift. Unknown
 * fields are refused (a misspelt `scheduled_for` would otherwise quietly make a draft).
 */

/** `POST /v1/posts`: a draft (no time), scheduled (`scheduledFor`) or published now (`publishNow: true`). */
export const CreatePostBody = PostContent.safeExtend({
  socialAccountId: z.uuid().describe('The connected account to publish to (GET /v1/accounts)'),
  scheduledFor: offsetInstant('scheduledFor')
    .optional()
    .describe('When to publish: RFC 3339 with an offset (`Z` or `±hh:mm`), stored as the UTC instant; leave out (and publishNow) for a draft'),
  publishNow: z.boolean().optional().describe('Publish as soon as possible instead of at scheduledFor'),
})
  .strict()
  .superRefine((body, context) => {
    if (body.publishNow === true && body.scheduledFor !== undefined) {
      context.addIssue({
        code: 'custom',
        path: ['publishNow'],
        message: 'publishNow and scheduledFor exclude each other: send one',
        params: { code: 'conflicting-fields' },
      });
    }
  })
  // `example`, not `examples`: zod leaves examples out of a schema with transforms (scheduledFor is one).
  .meta({
    example: {
      socialAccountId: '0b6f3f8e-6a52-4b8e-9d4e-2f4f7c1a9e10',
      platform: 'instagram',
      postType: 'reel',
      media: [{ position: 0, mediaType: 'video', url: 'https://cdn.example.com/launch.mp4', coverUrl: 'https://cdn.example.com/launch.jpg' }],
      caption: 'Launch day',
      hashtags: ['launch'],
      shareToFeed: true,
      firstComment: 'Link in bio',
      scheduledFor: '2026-03-08T09:00:00-05:00',
    },
  });
export type CreatePostBody = z.output<typeof CreatePostBody>;

/**
 * `PATCH /v1/posts/{postId}`: the fields that change (not the platform), and/or a new time.
 * `scheduledFor: null` unschedules (a queued post goes back to draft).
 */
export const UpdatePostBody = PostChanges.safeExtend({
  scheduledFor: offsetInstant('scheduledFor')
    .nullable()
    .optional()
    .describe('A new time, RFC 3339 with an offset (`Z` or `±hh:mm`); null unschedules (back to draft)'),
})
  .strict()
  .meta({ example: { scheduledFor: '2026-03-08T10:30:00+05:30' } });
export type UpdatePostBody = z.output<typeof UpdatePostBody>;

/** `POST /v1/posts/{postId}/cancel`: a queued post goes back to draft. */
export const CancelPostBody = z
  .object({ reason: z.string().max(500).optional().describe('Kept with the request event, for the record') })
  .strict();

/** `DELETE /v1/posts/{postId}`. */
export const DeletePostQuery = z.object({
  fromPlatform: z.stringbool().default(false).describe('Also delete it on Instagram or Facebook where Meta allows (published posts)'),
});

export const AccountIdPathParams = z.object({ accountId: z.uuid() });

/**
 * What a write answers when the publisher applied the request in time but the post could not be read
 * back: the publisher's own summary from `post.accepted`.
 */
export const AcceptedPostSummary = z.object({
  id: z.uuid(),
  socialAccountId: z.uuid(),
  status: PostStatus,
  platform: Platform,
  postType: PostType,
  scheduledFor: z.iso.datetime({ offset: true }).nullable(),
});

/** 202: the request is on its way; the post is at `location` once the publisher has applied it. */
export const PendingPostRequest = z.object({
  status: z.literal('pending'),
  postId: z.uuid(),
  requestEventId: z.uuid().describe('The id of the request event (the `requestId` of the publisher\'s answer)'),
  location: z.string().describe('Where the post can be read'),
});

/** `POST /v1/accounts/{accountId}/posts/retry`: the failed posts the publisher put back in the queue. */
export const AccountRetryResult = z.object({
  socialAccountId: z.uuid(),
  status: z.enum(['applied', 'pending']).describe('pending: no answer yet (or no failed post to retry)'),
  requestEventId: z.uuid(),
  retried: z.array(z.object({ postId: z.uuid(), status: PostStatus })),
  refused: z.array(z.object({ postId: z.uuid(), violations: z.array(z.object({ field: z.string(), code: z.string(), message: z.string() })) })),
});
