import { z } from 'zod';
import { Platform, PostType, Uuid } from '../primitives.ts';
import { postEvents } from '../topics/post-events.ts';
import { type LegacyTopic, defineUpcaster } from '../upcasting.ts';

/**
 * `postwire.post-events.v0`, the pre-catalogue shape of `post.published`: snake_case fields,
 * `account_id` instead of `socialAccountId`, the media id under `media_id`, and the publish time as
 * epoch seconds. Renames and a type change are breaking, hence v1; this upcaster lets consumers keep
 * reading v0 while old producers drain.
 */
export const postPublishedV0 = z.object({
  post_id: Uuid,
  account_id: Uuid,
  platform: Platform,
  post_type: PostType,
  media_id: z.string().min(1),
  permalink: z.string().nullable(),
  children_count: z.int().min(0).max(10).optional(),
  content_id: Uuid.nullable().optional(),
  published_at: z.int().positive().describe('epoch seconds'),
});

export const postEventsV0: LegacyTopic<typeof postEvents> = {
  name: 'postwire.post-events.v0',
  current: postEvents,
  upcasters: {
    'post.published': defineUpcaster(postEvents, {
      schema: postPublishedV0,
      upcast: (old) => ({
        type: 'post.published',
        data: {
          postId: old.post_id,
          socialAccountId: old.account_id,
          platform: old.platform,
          postType: old.post_type,
          contentId: old.content_id ?? null,
          platformPostId: old.media_id,
          platformUrl: old.permalink,
          mediaCount: old.post_type === 'carousel' ? Math.max(2, old.children_count ?? 2) : 1,
          publishedAt: new Date(old.published_at * 1000).toISOString(),
        },
      }),
    }),
  },
};
