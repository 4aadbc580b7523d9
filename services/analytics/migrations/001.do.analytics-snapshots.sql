-- The seed's social_media_analytics_snapshots, owned by the analytics service (schema analytics).
-- Posts belong to the publisher. Analytics keeps its own projection of the posts it tracks (filled
-- from post events), so the seed's RLS policy, which asks which organisation a post belongs to,
-- reads that projection instead of another service's table.

CREATE FUNCTION analytics.update_updated_at_column()
RETURNS TRIGGER AS $$
BEGIN
  NEW.updated_at = NOW();
  RETURN NEW;
END;
$$ LANGUAGE plpgsql;

CREATE TABLE analytics.tracked_posts (
  id UUID PRIMARY KEY,
  organisation_id UUID NOT NULL REFERENCES public.organisations(id) ON DELETE CASCADE,
  social_account_id UUID NOT NULL,
  platform TEXT NOT NULL CHECK (platform IN ('instagram', 'facebook')),
  post_type TEXT NOT NULL CHECK (post_type IN ('feed', 'reel', 'story', 'carousel')),
  platform_post_id TEXT,
  published_at TIMESTAMPTZ,
  created_at TIMESTAMPTZ NOT NULL DEFAULT NOW(),
  updated_at TIMESTAMPTZ NOT NULL DEFAULT NOW()
);

CREATE INDEX idx_tracked_posts_org ON analytics.tracked_posts(organisation_id);

ALTER TABLE analytics.tracked_posts ENABLE ROW LEVEL SECURITY;

CREATE POLICY "Users can view their organisation's tracked posts"
  ON analytics.tracked_posts FOR SELECT
  USING (organisation_id IN (
    SELECT organisation_id FROM public.users WHERE id = auth.uid()
  ));

CREATE TRIGGER update_tracked_posts_updated_at
  BEFORE UPDATE ON analytics.tracked_posts
  FOR EACH ROW
  EXECUTE FUNCTION analytics.update_updated_at_column();

CREATE TABLE analytics.social_media_analytics_snapshots (
  id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
  -- The publisher's post id; post.deleted removes the snapshots (the seed's ON DELETE CASCADE).
  post_id UUID NOT NULL,

  likes_count INTEGER NOT NULL,
  comments_count INTEGER NOT NULL,
  shares_count INTEGER NOT NULL,
  saves_count INTEGER NOT NULL,
  reach INTEGER NOT NULL,
  impressions INTEGER NOT NULL,
  plays_count INTEGER,
  engagement_rate DECIMAL(5,2),

  snapshot_at TIMESTAMPTZ NOT NULL DEFAULT NOW(),
  hours_since_published INTEGER,

  created_at TIMESTAMPTZ NOT NULL DEFAULT NOW()
);

CREATE INDEX idx_analytics_snapshots_post ON analytics.social_media_analytics_snapshots(post_id);
CREATE INDEX idx_analytics_snapshots_time ON analytics.social_media_analytics_snapshots(snapshot_at);

ALTER TABLE analytics.social_media_analytics_snapshots ENABLE ROW LEVEL SECURITY;

CREATE POLICY "Users can view analytics for their organisation's posts"
  ON analytics.social_media_analytics_snapshots FOR SELECT
  USING (
    post_id IN (
      SELECT id FROM analytics.tracked_posts
      WHERE organisation_id IN (
        SELECT organisation_id FROM public.users WHERE id = auth.uid()
      )
    )
  );
