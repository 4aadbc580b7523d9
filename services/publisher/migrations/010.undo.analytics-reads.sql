DROP INDEX publisher.idx_social_posts_performance;
REVOKE SELECT (social_account_id, organisation_id, username) ON publisher.accounts FROM publisher_app;
DROP POLICY "Users can view their organisation's account names" ON publisher.accounts;
ALTER TABLE publisher.accounts DISABLE ROW LEVEL SECURITY;
