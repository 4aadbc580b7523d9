-- What the seed's single content_url cannot express, beside the seed's table (whose columns, checks, indexes,
-- policies and trigger stay as written):
--   * an ordered media list per post (1 item, or 2-10 for a carousel), each with alt text, user tags and,
--     for a video, a cover URL or thumb offset. content_url / content_type / thumbnail_url keep the first item;
--   * a first comment, collaborators (at most 3), trial reel settings and a link;
--   * the Facebook post kind, derived from the post type and media (see FacebookFormat in packages/contracts).
-- and the publisher's projection of the accounts it publishes to (event-carried state transfer, DESIGN.md rule 6).

ALTER TABLE publisher.social_media_posts
  ADD COLUMN facebook_format TEXT CHECK (facebook_format IN ('text', 'link', 'photo', 'multi-photo', 'video', 'reel', 'story')),
  ADD COLUMN link_url TEXT CHECK (char_length(link_url) <= 2048),
  ADD COLUMN first_comment TEXT CHECK (char_length(first_comment) <= 2200),
  ADD COLUMN collaborators TEXT[] NOT NULL DEFAULT '{}' CHECK (cardinality(collaborators) <= 3),
  ADD COLUMN trial_graduation TEXT CHECK (trial_graduation IN ('MANUAL', 'SS_PERFORMANCE')),
  -- SHA-256 of the creating request's body when it came with an Idempotency-Key: the same key with another
  -- body is refused, the same body answered again.
  ADD COLUMN request_hash TEXT CHECK (request_hash ~ '^[a-f0-9]{64}$'),
  ADD CONSTRAINT facebook_format_on_facebook_posts CHECK ((platform = 'facebook') = (facebook_format IS NOT NULL));

CREATE TABLE publisher.post_media (
  post_id UUID NOT NULL REFERENCES publisher.social_media_posts(id) ON DELETE CASCADE,
  -- The post's organisation, repeated so the same policy as the post's decides without a join.
  organisation_id UUID NOT NULL REFERENCES public.organisations(id) ON DELETE CASCADE,
  position SMALLINT NOT NULL CHECK (position BETWEEN 0 AND 9),
  media_type TEXT NOT NULL CHECK (media_type IN ('video', 'image')),
  url TEXT NOT NULL CHECK (char_length(url) <= 2048),
  thumbnail_url TEXT CHECK (char_length(thumbnail_url) <= 2048),
  alt_text TEXT CHECK (char_length(alt_text) <= 1000),
  user_tags JSONB NOT NULL DEFAULT '[]'::jsonb CHECK (jsonb_typeof(user_tags) = 'array'),
  cover_url TEXT CHECK (char_length(cover_url) <= 2048),
  thumb_offset_ms INTEGER CHECK (thumb_offset_ms >= 0),
  PRIMARY KEY (post_id, position)
);

CREATE INDEX idx_post_media_org ON publisher.post_media(organisation_id);

ALTER TABLE publisher.post_media ENABLE ROW LEVEL SECURITY;

CREATE POLICY "Users can view their organisation's post media"
  ON publisher.post_media FOR SELECT
  USING (organisation_id IN (SELECT organisation_id FROM public.users WHERE id = auth.uid()));

CREATE POLICY "Users can change their organisation's post media"
  ON publisher.post_media FOR ALL
  USING (organisation_id IN (SELECT organisation_id FROM public.users WHERE id = auth.uid()))
  WITH CHECK (organisation_id IN (SELECT organisation_id FROM public.users WHERE id = auth.uid()));

GRANT SELECT, INSERT, UPDATE, DELETE ON publisher.post_media TO publisher_app;

-- The accounts the publisher may publish to, as account events describe them. Only the worker role reads
-- it (the token is in here, encrypted as it travelled); publisher_app has no rights on it.
CREATE TABLE publisher.accounts (
  social_account_id UUID PRIMARY KEY,
  organisation_id UUID NOT NULL REFERENCES public.organisations(id) ON DELETE CASCADE,
  platform TEXT NOT NULL CHECK (platform IN ('instagram', 'facebook')),
  account_type TEXT NOT NULL CHECK (account_type IN ('business', 'creator', 'page')),
  platform_account_id TEXT NOT NULL,
  page_id TEXT,
  username TEXT,
  status TEXT NOT NULL CHECK (status IN ('active', 'expired', 'disconnected', 'error')),
  status_reason TEXT,
  capabilities JSONB NOT NULL,
  access_token TEXT NOT NULL CHECK (access_token LIKE 'enc:v1:%'),
  token_expires_at TIMESTAMPTZ,
  publishing_limit JSONB,
  -- The time of the newest account event applied; an older one arriving late changes nothing.
  last_event_at TIMESTAMPTZ NOT NULL,
  created_at TIMESTAMPTZ NOT NULL DEFAULT NOW(),
  updated_at TIMESTAMPTZ NOT NULL DEFAULT NOW()
);

CREATE INDEX idx_publisher_accounts_org ON publisher.accounts(organisation_id);

CREATE TRIGGER update_publisher_accounts_updated_at
  BEFORE UPDATE ON publisher.accounts
  FOR EACH ROW
  EXECUTE FUNCTION publisher.update_updated_at_column();

REVOKE ALL ON publisher.accounts FROM publisher_app;
