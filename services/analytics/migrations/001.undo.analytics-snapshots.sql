DROP TABLE analytics.social_media_analytics_snapshots;
DROP TABLE analytics.tracked_posts;
DROP FUNCTION analytics.update_updated_at_column();
