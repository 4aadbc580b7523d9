-- Analytics (issue 13): the seed's example query 3 (top posts) joins the account for its username, and runs as
-- publisher_app with the caller's claims. publisher_app gets only the columns it needs of the account
-- projection (never the token), and RLS keeps it to the caller's organisation.
ALTER TABLE publisher.accounts ENABLE ROW LEVEL SECURITY;

CREATE POLICY "Users can view their organisation's account names"
  ON publisher.accounts FOR SELECT
  USING (organisation_id IN (
    SELECT organisation_id FROM public.users WHERE id = auth.uid()
  ));

GRANT SELECT (social_account_id, organisation_id, username) ON publisher.accounts TO publisher_app;

-- Query 3 filters on organisation, status and publication time, and orders by engagement rate.
CREATE INDEX idx_social_posts_performance ON publisher.social_media_posts (organisation_id, published_at)
  WHERE status = 'published';
