import { z } from 'zod';
import { sql, type CommonQueryMethods } from '@postwire/db';

const Counted = z.object({ id: z.uuid() });

/**
 * The host's social_media_videos posting columns, kept by the publisher in the transaction that marks a
 * post published (count up) or deletes a published one (count down, posted_to_social cleared at zero).
 */
export function createContentCounters(connection: CommonQueryMethods) {
  return {
    async published(contentId: string): Promise<void> {
      await connection.maybeOne(sql.type(Counted)`
        UPDATE public.social_media_videos
        SET post_count = COALESCE(post_count, 0) + 1, posted_to_social = true
        WHERE id = ${contentId}
        RETURNING id`);
    },
    async unpublished(contentId: string): Promise<void> {
      await connection.maybeOne(sql.type(Counted)`
        UPDATE public.social_media_videos
        SET post_count = GREATEST(COALESCE(post_count, 0) - 1, 0),
            posted_to_social = GREATEST(COALESCE(post_count, 0) - 1, 0) > 0
        WHERE id = ${contentId}
        RETURNING id`);
    },
  };
}
