-- publisher_app acts for one user at a time, where the seed's RLS policies on posts decide. The outbox,
-- the inbox and the version table belong to publisher_worker and publisher_owner, and the two posting
-- columns of the host's social_media_videos are kept by the worker alone, in the transaction that marks a
-- post published or deleted. prepare no longer grants publisher_app anything by default; this sets
-- exactly what it has.
REVOKE ALL ON publisher.outbox, publisher.inbox, publisher.schemaversion FROM publisher_app;
REVOKE ALL ON SEQUENCE publisher.outbox_position_seq FROM publisher_app;
REVOKE ALL ON publisher.social_media_posts FROM publisher_app;
GRANT SELECT, INSERT, UPDATE, DELETE ON publisher.social_media_posts TO publisher_app;
REVOKE UPDATE (posted_to_social, post_count) ON public.social_media_videos FROM publisher_app;
