-- Analytics (issue 13): the seed's example query 3 (top posts) shows each post's account username, and runs as
-- publisher_app with the caller's claims. The account projection stays closed to publisher_app (it holds tokens);
-- this function answers only the username, only for an account of the caller's own organisation.
CREATE FUNCTION publisher.account_username(p_account_id UUID)
RETURNS TEXT
LANGUAGE sql
STABLE
SECURITY DEFINER
SET search_path = pg_catalog
AS $$
  SELECT a.username
    FROM publisher.accounts a
   WHERE a.social_account_id = p_account_id
     AND a.organisation_id IN (SELECT u.organisation_id FROM public.users u WHERE u.id = auth.uid())
$$;

REVOKE ALL ON FUNCTION publisher.account_username(UUID) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION publisher.account_username(UUID) TO publisher_app;

-- Query 3 filters on organisation, status and publication time, and orders by engagement rate.
CREATE INDEX idx_social_posts_performance ON publisher.social_media_posts (organisation_id, published_at)
  WHERE status = 'published';
