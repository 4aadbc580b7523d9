-- analytics_app acts for one user at a time and only reads (the seed's policies here are SELECT only);
-- the projection, the snapshots' writes, the outbox, the inbox and the version table belong to
-- analytics_worker and analytics_owner. prepare no longer grants analytics_app anything by default.
REVOKE ALL ON analytics.outbox, analytics.inbox, analytics.schemaversion FROM analytics_app;
REVOKE ALL ON SEQUENCE analytics.outbox_position_seq FROM analytics_app;
REVOKE ALL ON analytics.tracked_posts, analytics.social_media_analytics_snapshots FROM analytics_app;
GRANT SELECT ON analytics.tracked_posts, analytics.social_media_analytics_snapshots TO analytics_app;
