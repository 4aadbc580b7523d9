-- Back to what publisher_app has before 003: 001's column grant and nothing else (prepare grants it nothing by default).
REVOKE ALL ON publisher.social_media_posts FROM publisher_app;
GRANT UPDATE (posted_to_social, post_count) ON public.social_media_videos TO publisher_app;
