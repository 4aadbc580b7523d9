-- The seed's social_media_posts, owned by the publisher (schema publisher).
-- social_account_id points at an account owned by the accounts service: no foreign key crosses a
-- service boundary, account events keep it true (disconnect cancels queued posts, deletion deletes).

CREATE FUNCTION publisher.update_updated_at_column()
RETURNS TRIGGER AS $$
BEGIN
  NEW.updated_at = NOW();
  RETURN NEW;
END;
$$ LANGUAGE plpgsql;

CREATE TABLE publisher.social_media_posts (
  id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
  organisation_id UUID NOT NULL REFERENCES public.organisations(id) ON DELETE CASCADE,
  social_account_id UUID NOT NULL,
  created_by UUID NOT NULL REFERENCES public.users(id),

  content_type TEXT NOT NULL CHECK (content_type IN ('video', 'image')),
  content_id UUID,
  content_url TEXT NOT NULL,
  thumbnail_url TEXT,

  caption TEXT CHECK (char_length(caption) <= 2200),
  post_type TEXT NOT NULL CHECK (post_type IN ('feed', 'reel', 'story', 'carousel')),
  hashtags TEXT[],
  location_id TEXT,

  share_to_feed BOOLEAN DEFAULT false,

  scheduled_for TIMESTAMPTZ,
  published_at TIMESTAMPTZ,

  platform TEXT NOT NULL CHECK (platform IN ('instagram', 'facebook')),
  platform_post_id TEXT,
  platform_url TEXT,
  container_id TEXT,

  status TEXT NOT NULL DEFAULT 'draft' CHECK (
    status IN ('draft', 'queued', 'processing', 'published', 'failed', 'deleted')
  ),
  error_message TEXT,
  retry_count INTEGER DEFAULT 0,
  max_retries INTEGER DEFAULT 3,

  likes_count INTEGER DEFAULT 0,
  comments_count INTEGER DEFAULT 0,
  shares_count INTEGER DEFAULT 0,
  saves_count INTEGER DEFAULT 0,
  reach INTEGER DEFAULT 0,
  impressions INTEGER DEFAULT 0,
  plays_count INTEGER DEFAULT 0,
  engagement_rate DECIMAL(5,2),

  last_analytics_sync TIMESTAMPTZ,
  analytics_available BOOLEAN DEFAULT false,

  created_at TIMESTAMPTZ NOT NULL DEFAULT NOW(),
  updated_at TIMESTAMPTZ NOT NULL DEFAULT NOW(),

  CONSTRAINT scheduled_or_published CHECK (
    (status = 'draft' OR status = 'failed') OR
    (scheduled_for IS NOT NULL OR published_at IS NOT NULL)
  )
);

CREATE INDEX idx_social_posts_org ON publisher.social_media_posts(organisation_id);
CREATE INDEX idx_social_posts_account ON publisher.social_media_posts(social_account_id);
CREATE INDEX idx_social_posts_status ON publisher.social_media_posts(status);
CREATE INDEX idx_social_posts_scheduled ON publisher.social_media_posts(scheduled_for)
  WHERE status IN ('draft', 'queued');
CREATE INDEX idx_social_posts_platform_id ON publisher.social_media_posts(platform_post_id)
  WHERE platform_post_id IS NOT NULL;
CREATE INDEX idx_social_posts_content ON publisher.social_media_posts(content_id);
CREATE INDEX idx_social_posts_created_at ON publisher.social_media_posts(created_at DESC);

ALTER TABLE publisher.social_media_posts ENABLE ROW LEVEL SECURITY;

CREATE POLICY "Users can view their organisation's posts"
  ON publisher.social_media_posts FOR SELECT
  USING (organisation_id IN (
    SELECT organisation_id FROM public.users WHERE id = auth.uid()
  ));

CREATE POLICY "Users can create posts for their organisation"
  ON publisher.social_media_posts FOR INSERT
  WITH CHECK (
    organisation_id IN (
      SELECT organisation_id FROM public.users WHERE id = auth.uid()
    )
    AND created_by = auth.uid()
  );

CREATE POLICY "Users can update their organisation's posts"
  ON publisher.social_media_posts FOR UPDATE
  USING (organisation_id IN (
    SELECT organisation_id FROM public.users WHERE id = auth.uid()
  ));

CREATE POLICY "Users can delete their organisation's posts"
  ON publisher.social_media_posts FOR DELETE
  USING (organisation_id IN (
    SELECT organisation_id FROM public.users WHERE id = auth.uid()
  ));

CREATE TRIGGER update_social_posts_updated_at
  BEFORE UPDATE ON publisher.social_media_posts
  FOR EACH ROW
  EXECUTE FUNCTION publisher.update_updated_at_column();

-- As the seed writes it, with one guard: engagement can exceed reach (shares, saves, repeat
-- interactions), and engagement_rate is DECIMAL(5,2), so the rate is capped at 999.99 instead of
-- making the UPDATE that stores it fail with a numeric overflow.
CREATE FUNCTION publisher.calculate_engagement_rate(
  p_post_id UUID
) RETURNS DECIMAL AS $$
DECLARE
  v_engagement INTEGER;
  v_reach INTEGER;
BEGIN
  SELECT
    COALESCE(p.likes_count, 0) + COALESCE(p.comments_count, 0) +
    COALESCE(p.shares_count, 0) + COALESCE(p.saves_count, 0),
    COALESCE(p.reach, 0)
  INTO v_engagement, v_reach
  FROM publisher.social_media_posts p
  WHERE p.id = p_post_id;

  IF v_reach > 0 THEN
    RETURN LEAST(ROUND((v_engagement::DECIMAL / v_reach::DECIMAL) * 100, 2), 999.99);
  ELSE
    RETURN 0;
  END IF;
END;
$$ LANGUAGE plpgsql;

-- The host table gains the two columns the publisher keeps up to date when posts publish or go.
ALTER TABLE public.social_media_videos
  ADD COLUMN posted_to_social BOOLEAN DEFAULT false,
  ADD COLUMN post_count INTEGER DEFAULT 0;

CREATE INDEX idx_social_videos_posted ON public.social_media_videos(posted_to_social);

GRANT UPDATE (posted_to_social, post_count) ON public.social_media_videos
  TO publisher_app, publisher_worker;
