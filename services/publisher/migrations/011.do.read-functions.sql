-- The read API's posts in one round trip each (issue 14's read path). A read used to be five statements: BEGIN,
-- the caller's claims (set_config ... LOCAL), the page, its media, COMMIT. These functions take the claims and
-- run the same two steps in order, in the statement's own transaction: statements in a SQL function run one after
-- the other, so the claims are set before the select runs (a set_config inside the select itself could run after
-- the RLS quals). They are SECURITY INVOKER: they run as publisher_app, and the seed's policies on posts and their
-- media decide, beside the explicit organisation filter. The answer is the post in the API's shape (PostResource
-- in packages/api), built here as JSON text that the service sends as it is.

-- The claims as setCallerClaims (packages/db) sets them: for this transaction only, and believed by auth.uid()
-- only next to this transaction's start.
CREATE FUNCTION publisher.set_caller_claims(p_claims TEXT)
RETURNS VOID
LANGUAGE sql
VOLATILE
AS $$
  SELECT set_config('request.jwt.claims', p_claims, true),
         set_config('request.jwt.transaction', extract(epoch FROM transaction_timestamp())::text, true);
$$;

-- A UTC instant as JavaScript's Date#toISOString writes it (milliseconds, Z).
CREATE FUNCTION publisher.iso_instant(p_instant TIMESTAMPTZ)
RETURNS TEXT
LANGUAGE sql
STABLE
AS $$
  SELECT to_char(p_instant AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"');
$$;

-- Each post as PostResource: every field present (null when unset), its media by position, each media item
-- without its unset fields (and without userTags when there are none); beside it, what the reads filter and order
-- by. A view, so the planner folds it into each read (a function per row would run its own executor each time),
-- and security_invoker, so the caller's rights and the policies decide, as on the tables themselves.
CREATE VIEW publisher.post_resources WITH (security_invoker = true) AS
  SELECT
    p.id,
    p.organisation_id,
    p.social_account_id,
    p.platform,
    p.post_type,
    p.status,
    CASE WHEN p.status = 'published' THEN p.published_at ELSE p.scheduled_for END AS post_time,
    -- Migration 005's index: the list's order.
    COALESCE(CASE WHEN p.status = 'published' THEN p.published_at ELSE p.scheduled_for END, p.created_at) AS sort_time,
    -- The post's version (POST_VERSION in src/db/posts-repository.ts): its ETag.
    (EXTRACT(EPOCH FROM p.updated_at) * 1000000)::bigint::text AS version,
    json_build_object(
      'id', p.id,
      'organisationId', p.organisation_id,
      'socialAccountId', p.social_account_id,
      'createdBy', p.created_by,
      'platform', p.platform,
      'postType', p.post_type,
      'facebookFormat', p.facebook_format,
      'status', p.status,
      'content', json_build_object(
        'caption', p.caption,
        'hashtags', COALESCE(p.hashtags, '{}'),
        'media', COALESCE((
          SELECT json_agg(json_strip_nulls(json_build_object(
                   'position', m.position,
                   'mediaType', m.media_type,
                   'url', m.url,
                   'thumbnailUrl', m.thumbnail_url,
                   'altText', m.alt_text,
                   'userTags', CASE WHEN jsonb_array_length(m.user_tags) > 0 THEN m.user_tags END,
                   'coverUrl', m.cover_url,
                   'thumbOffsetMs', m.thumb_offset_ms)) ORDER BY m.position)
            FROM publisher.post_media m
           WHERE m.post_id = p.id), '[]'::json),
        'contentId', p.content_id,
        'locationId', p.location_id,
        'link', p.link_url,
        'shareToFeed', COALESCE(p.share_to_feed, false),
        'trialParams', CASE WHEN p.trial_graduation IS NOT NULL THEN json_build_object('graduationStrategy', p.trial_graduation) END,
        'firstComment', p.first_comment,
        'collaborators', p.collaborators),
      'scheduledFor', publisher.iso_instant(p.scheduled_for),
      'publishedAt', publisher.iso_instant(p.published_at),
      'platformPostId', p.platform_post_id,
      'platformUrl', p.platform_url,
      'errorMessage', p.error_message,
      'retryCount', COALESCE(p.retry_count, 0),
      'maxRetries', COALESCE(p.max_retries, 0),
      'metrics', json_build_object(
        'likes', COALESCE(p.likes_count, 0),
        'comments', COALESCE(p.comments_count, 0),
        'shares', COALESCE(p.shares_count, 0),
        'saves', COALESCE(p.saves_count, 0),
        'reach', COALESCE(p.reach, 0),
        'impressions', COALESCE(p.impressions, 0),
        'plays', COALESCE(p.plays_count, 0),
        'engagementRate', p.engagement_rate::float8,
        'available', COALESCE(p.analytics_available, false),
        'lastSyncedAt', publisher.iso_instant(p.last_analytics_sync)),
      'createdAt', publisher.iso_instant(p.created_at),
      'updatedAt', publisher.iso_instant(p.updated_at)) AS resource
  FROM publisher.social_media_posts p;

-- One post of the organisation, as the caller may see it, and its version: no row when RLS or the filter hides it.
CREATE FUNCTION publisher.read_post(p_claims TEXT, p_organisation_id UUID, p_post_id UUID)
RETURNS TABLE (post TEXT, version TEXT)
LANGUAGE sql
VOLATILE
AS $$
  SELECT publisher.set_caller_claims(p_claims);
  SELECT r.resource::text, r.version
    FROM publisher.post_resources r
   WHERE r.organisation_id = p_organisation_id AND r.id = p_post_id;
$$;

-- A page of the organisation's posts in the list's order (migration 005's index): by the post's time (published_at
-- once published, else scheduled_for, a draft without one by its creation), then id, after the keyset cursor
-- (microseconds since the epoch and an id; from the start without one), one row more than the page to tell whether
-- another follows. Deleted posts only when p_statuses names them; a null filter filters nothing.
CREATE FUNCTION publisher.read_posts(
  p_claims TEXT,
  p_organisation_id UUID,
  p_statuses TEXT[],
  p_account UUID,
  p_platform TEXT,
  p_type TEXT,
  p_from TIMESTAMPTZ,
  p_to TIMESTAMPTZ,
  p_after_micros BIGINT,
  p_after_id UUID,
  p_limit INTEGER
)
RETURNS TABLE (post TEXT, sort_key BIGINT, id UUID)
LANGUAGE sql
VOLATILE
AS $$
  SELECT publisher.set_caller_claims(p_claims);
  SELECT r.resource::text, (EXTRACT(EPOCH FROM r.sort_time) * 1000000)::bigint, r.id
    FROM publisher.post_resources r
   WHERE r.organisation_id = p_organisation_id
     AND CASE WHEN p_statuses IS NULL THEN r.status <> 'deleted' ELSE r.status = ANY (p_statuses) END
     AND (p_account IS NULL OR r.social_account_id = p_account)
     AND (p_platform IS NULL OR r.platform = p_platform)
     AND (p_type IS NULL OR r.post_type = p_type)
     AND (p_from IS NULL OR r.post_time >= p_from)
     AND (p_to IS NULL OR r.post_time < p_to)
     AND (r.sort_time, r.id) > (COALESCE(TIMESTAMPTZ 'epoch' + p_after_micros * INTERVAL '1 microsecond', '-infinity'),
                                COALESCE(p_after_id, '00000000-0000-0000-0000-000000000000'))
   ORDER BY r.sort_time, r.id
   LIMIT p_limit + 1;
$$;

REVOKE ALL ON FUNCTION publisher.set_caller_claims(TEXT), publisher.iso_instant(TIMESTAMPTZ), publisher.read_post(TEXT, UUID, UUID),
  publisher.read_posts(TEXT, UUID, TEXT[], UUID, TEXT, TEXT, TIMESTAMPTZ, TIMESTAMPTZ, BIGINT, UUID, INTEGER) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION publisher.set_caller_claims(TEXT), publisher.iso_instant(TIMESTAMPTZ), publisher.read_post(TEXT, UUID, UUID),
  publisher.read_posts(TEXT, UUID, TEXT[], UUID, TEXT, TEXT, TIMESTAMPTZ, TIMESTAMPTZ, BIGINT, UUID, INTEGER) TO publisher_app;
GRANT SELECT ON publisher.post_resources TO publisher_app;
