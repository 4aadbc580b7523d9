-- The read API lists an organisation's posts by their time (scheduled_for, or published_at once published; a
-- draft without a time by its creation), then id, a page at a time from a keyset cursor (src/db/read-queries.ts).
-- This index serves that order and the cursor's row comparison without sorting the organisation's posts.
--
-- How intake fills the seed's single-media columns (src/db/posts-repository.ts `seedMediaColumns`):
-- content_url / content_type / thumbnail_url repeat the first item of publisher.post_media. A Facebook text post
-- has no media: content_url is '' (the seed's column is NOT NULL) and content_type 'image'; a link post stores
-- its link there (and in link_url). facebook_format is derived from post type and media, never chosen.
CREATE INDEX idx_social_posts_list_order ON publisher.social_media_posts (
  organisation_id,
  (COALESCE(CASE WHEN status = 'published' THEN published_at ELSE scheduled_for END, created_at)),
  id
);
