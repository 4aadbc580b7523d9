DROP INDEX publisher.idx_social_posts_performance;
DROP FUNCTION publisher.account_username(UUID);
