GRANT INSERT, UPDATE, DELETE ON publisher.social_media_posts, publisher.post_media TO publisher_app;
