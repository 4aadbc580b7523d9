REVOKE UPDATE (posted_to_social, post_count) ON public.social_media_videos
  FROM publisher_app, publisher_worker;
DROP INDEX public.idx_social_videos_posted;
ALTER TABLE public.social_media_videos
  DROP COLUMN posted_to_social,
  DROP COLUMN post_count;

DROP FUNCTION publisher.calculate_engagement_rate(UUID);
DROP TABLE publisher.social_media_posts;
DROP FUNCTION publisher.update_updated_at_column();
