DROP TABLE analytics.insight_syncs;
DROP TABLE analytics.rate_limit_pauses;
DROP TABLE analytics.accounts;
DROP INDEX analytics.idx_tracked_posts_published;
ALTER TABLE analytics.tracked_posts
  DROP COLUMN facebook_post_id,
  DROP COLUMN syncs_stopped_reason,
  DROP COLUMN last_refresh_requested_at;
