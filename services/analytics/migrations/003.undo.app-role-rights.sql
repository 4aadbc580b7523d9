-- Back to what analytics_app has before 003: nothing (prepare grants it nothing by default).
REVOKE ALL ON analytics.tracked_posts, analytics.social_media_analytics_snapshots FROM analytics_app;
