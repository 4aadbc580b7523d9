import { z } from 'zod';
import { FacebookFormat, MediaItem, Platform, PostStatus, PostType, TrialParams } from '@postwire/contracts';

const Instant = z.iso.datetime({ offset: true });

/**
 * The public shape of a post: what the publisher's read API answers and the gateway documents.
 * Times are RFC 3339 instants in UTC.
 */
export const PostResource = z.object({
  id: z.uuid(),
  organisationId: z.uuid(),
  socialAccountId: z.uuid(),
  createdBy: z.uuid(),
  platform: Platform,
  postType: PostType,
  facebookFormat: FacebookFormat.nullable().describe('Facebook posts: text, link, photo, multi-photo, video, reel or story'),
  status: PostStatus,
  content: z.object({
    caption: z.string().nullable(),
    hashtags: z.array(z.string()),
    media: z.array(MediaItem),
    contentId: z.uuid().nullable(),
    locationId: z.string().nullable(),
    link: z.string().nullable(),
    shareToFeed: z.boolean(),
    trialParams: TrialParams.nullable(),
    firstComment: z.string().nullable(),
    collaborators: z.array(z.string()),
  }),
  scheduledFor: Instant.nullable(),
  publishedAt: Instant.nullable(),
  platformPostId: z.string().nullable(),
  platformUrl: z.string().nullable(),
  errorMessage: z.string().nullable().describe('Why the post failed, in words a person can act on'),
  retryCount: z.int().nonnegative(),
  maxRetries: z.int().nonnegative(),
  metrics: z.object({
    likes: z.int(),
    comments: z.int(),
    shares: z.int(),
    saves: z.int(),
    reach: z.int(),
    impressions: z.int(),
    plays: z.int(),
    engagementRate: z.number().nullable(),
    available: z.boolean(),
    lastSyncedAt: Instant.nullable(),
  }),
  createdAt: Instant,
  updatedAt: Instant,
});
export type PostResource = z.infer<typeof PostResource>;

export const PostList = z.object({
  data: z.array(PostResource),
  nextCursor: z.string().nullable().describe('Pass as `cursor` for the next page; null on the last page'),
});

const csv = <T extends z.ZodType<string, string>>(item: T) =>
  z
    .string()
    .transform((value) => value.split(',').map((part) => part.trim()).filter((part) => part !== ''))
    .pipe(z.array(item).min(1));

/** `GET /v1/posts` (the seed's query 2 is `status=draft,queued&from=..&to=..`). */
export const PostListQuery = z.object({
  status: csv(PostStatus).optional().describe('Comma-separated statuses'),
  account: z.uuid().optional().describe('Only this social account'),
  platform: Platform.optional(),
  type: PostType.optional(),
  from: Instant.optional().describe('scheduled_for (or published_at) at or after this instant'),
  to: Instant.optional().describe('scheduled_for (or published_at) before this instant'),
  limit: z.coerce.number().int().min(1).max(100).default(25),
  cursor: z.string().regex(/^[A-Za-z0-9_-]{1,200}$/).optional(),
});

export const PostIdParams = z.object({ postId: z.uuid() });

/** `GET /v1/content/unposted` (the seed's query 5): the organisation's finished videos not posted anywhere yet. */
export const UnpostedContent = z.object({
  data: z.array(
    z.object({
      id: z.uuid(),
      prompt: z.string().nullable(),
      videoUrl: z.string(),
      thumbnailUrl: z.string().nullable(),
      mode: z.string().nullable(),
      status: z.string(),
      createdAt: Instant,
    }),
  ),
  nextCursor: z.string().nullable(),
});

export const UnpostedContentQuery = z.object({
  limit: z.coerce.number().int().min(1).max(100).default(25),
  cursor: z.string().regex(/^[A-Za-z0-9_-]{1,200}$/).optional(),
});
