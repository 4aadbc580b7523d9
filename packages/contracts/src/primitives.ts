import { z } from 'zod';

// Building blocks shared by the event payloads. Enumerations mirror the CHECK constraints of the
// seed tables, so an event can never carry a value the owning service could not store.

export const Uuid = z.uuid();
export const Timestamp = z.iso.datetime({ offset: true }).describe('RFC 3339 date-time with offset');
export const HttpsUrl = z.url({ protocol: /^https?$/ }).max(2048);

export const Platform = z.enum(['instagram', 'facebook']);
export type Platform = z.infer<typeof Platform>;
export const AccountType = z.enum(['business', 'creator', 'page']);
export const AccountStatus = z.enum(['active', 'expired', 'disconnected', 'error']);
export const PostType = z.enum(['feed', 'reel', 'story', 'carousel']);
export type PostType = z.infer<typeof PostType>;
export const ContentType = z.enum(['video', 'image']);
export const PostStatus = z.enum(['draft', 'queued', 'processing', 'published', 'failed', 'deleted']);
export type PostStatus = z.infer<typeof PostStatus>;

/**
 * The only shape a token ever has outside the accounts service's memory:
 * `enc:v1:<keyId>:<iv>:<ciphertext>:<tag>`, AES-256-GCM, IV 12 bytes and tag 16 bytes, all base64url
 * without padding. The key id lets a reader pick the right key while keys rotate.
 */
export const ENCRYPTED_SECRET_PATTERN =
  /^enc:v1:[A-Za-z0-9_-]{1,64}:[A-Za-z0-9_-]{16}:[A-Za-z0-9_-]+:[A-Za-z0-9_-]{22}$/;
export const EncryptedSecret = z
  .string()
  .regex(ENCRYPTED_SECRET_PATTERN, 'must be an enc:v1 AES-256-GCM ciphertext, never a plaintext token')
  .brand<'EncryptedSecret'>()
  .describe('AES-256-GCM ciphertext: enc:v1:<keyId>:<iv b64url>:<ciphertext b64url>:<tag b64url>');
export type EncryptedSecret = z.infer<typeof EncryptedSecret>;

export const Capabilities = z.object({
  feed: z.boolean(),
  stories: z.boolean(),
  reels: z.boolean(),
});

/** What Meta's content_publishing_limit reported; the publisher never hard-codes the quota. */
export const PublishingLimit = z.object({
  quotaTotal: z.int().nonnegative(),
  quotaUsage: z.int().nonnegative(),
  windowSeconds: z.int().positive(),
  checkedAt: Timestamp,
});

/**
 * How a failure was classified from Meta's error codes (shared/reference/meta-graph-api.md):
 * the category decides what happens next, the message is safe to show a user (no tokens, no URLs
 * with secrets).
 */
export const ErrorCategory = z.enum([
  'transient',
  'rate-limited',
  'token',
  'permission',
  'bad-media',
  'invalid-request',
  'quota-exceeded',
  'unknown',
]);
export const ErrorInfo = z.object({
  category: ErrorCategory,
  code: z.int().optional().describe("Meta's error code"),
  subcode: z.int().optional().describe("Meta's error_subcode"),
  message: z.string().min(1).max(2000),
  retryable: z.boolean(),
  retryAfterSeconds: z.int().nonnegative().optional(),
});

/** x and y (0-1) place the tag on an image; a story's tags may leave them out (the publisher checks which applies). */
export const UserTag = z.object({
  username: z.string().regex(/^[A-Za-z0-9._]{1,30}$/, 'an Instagram username without @'),
  x: z.number().min(0).max(1).optional(),
  y: z.number().min(0).max(1).optional(),
});

export const MediaItem = z.object({
  position: z.int().min(0).max(9),
  mediaType: ContentType,
  url: HttpsUrl,
  thumbnailUrl: HttpsUrl.optional(),
  altText: z.string().max(1000).optional().describe('Images only'),
  userTags: z.array(UserTag).max(20).optional(),
  coverUrl: HttpsUrl.optional().describe('Videos: cover image (wins over thumbOffsetMs)'),
  thumbOffsetMs: z.int().nonnegative().max(15 * 60 * 1000).optional().describe('Videos: frame used as the cover'),
});
export type MediaItem = z.infer<typeof MediaItem>;

/**
 * What a Facebook Page post is, derived from the post type and its media (the seed's post_type has no
 * text or link posts): a feed post without media is text (or link, with `link`), with one image a photo,
 * with one video a video; a carousel of images is a multi-photo post; reels and stories are themselves.
 */
export const FacebookFormat = z.enum(['text', 'link', 'photo', 'multi-photo', 'video', 'reel', 'story']);
export type FacebookFormat = z.infer<typeof FacebookFormat>;

export const TrialParams = z.object({ graduationStrategy: z.enum(['MANUAL', 'SS_PERFORMANCE']) });

const postContentShape = {
  platform: Platform,
  postType: PostType,
  contentId: Uuid.optional().describe('The host product video (social_media_videos.id) this post shares'),
  media: z.array(MediaItem).max(10).describe('Ordered; empty only for a Facebook text or link post'),
  caption: z.string().max(2200).optional(),
  hashtags: z.array(z.string().regex(/^[^\s#]{1,100}$/)).max(30).optional().describe('Without #; appended to the caption when publishing'),
  locationId: z.string().regex(/^[0-9]{1,64}$/).optional(),
  link: HttpsUrl.optional().describe('Facebook feed posts without media: a link post'),
  shareToFeed: z.boolean().optional().describe('Reels: also show in the feed'),
  trialParams: TrialParams.optional().describe('Instagram reels: a trial reel shown to non-followers first'),
  firstComment: z.string().min(1).max(2200).optional(),
  collaborators: z.array(z.string().regex(/^[A-Za-z0-9._]{1,30}$/, 'an Instagram username without @')).max(3).optional(),
};

/** Carousels carry 2-10 ordered items; Facebook text and link posts none; every other post type exactly one. */
function checkMediaCount(
  content: { platform?: Platform | undefined; postType?: PostType | undefined; media?: readonly { position: number }[] | undefined },
  context: z.core.$RefinementCtx,
): void {
  if (!content.postType || !content.media) return;
  const count = content.media.length;
  const textPostAllowed = content.platform === 'facebook' && content.postType === 'feed';
  const wrong =
    content.postType === 'carousel' ? count < 2 : textPostAllowed ? count > 1 : count !== 1;
  if (wrong) {
    context.addIssue({
      code: 'custom',
      path: ['media'],
      message:
        content.postType === 'carousel'
          ? 'a carousel needs 2 to 10 media items'
          : textPostAllowed
            ? 'a Facebook feed post has at most one media item (none for a text or link post)'
            : `a ${content.postType} post has exactly one media item`,
    });
  }
  const positions = new Set(content.media.map((item) => item.position));
  if (positions.size !== count) context.addIssue({ code: 'custom', path: ['media'], message: 'media positions must be unique' });
}

export const PostContent = z.object(postContentShape).superRefine(checkMediaCount);
export type PostContent = z.infer<typeof PostContent>;
export const PostChanges = z
  .object(postContentShape)
  .omit({ platform: true })
  .partial()
  .superRefine(checkMediaCount)
  .refine((changes) => Object.keys(changes).length > 0, 'at least one field must change');
export type PostChanges = z.infer<typeof PostChanges>;

export const PostMetrics = z.object({
  likes: z.int().nonnegative(),
  comments: z.int().nonnegative(),
  shares: z.int().nonnegative(),
  saves: z.int().nonnegative(),
  reach: z.int().nonnegative(),
  impressions: z.int().nonnegative(),
  plays: z.int().nonnegative().nullable().describe('Video plays; null for images'),
});
