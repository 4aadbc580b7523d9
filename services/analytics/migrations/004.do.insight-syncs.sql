-- Insight syncs (issue 13): the account projection syncs read tokens from, the schedule of syncs per published
-- post, and the pauses Meta's rate limits impose. All of it is worker-only: analytics_app reads snapshots and
-- tracked posts, nothing here.

-- What a sync needs to know about a tracked post beyond the projection of 001.
ALTER TABLE analytics.tracked_posts
  -- The last on-demand refresh a user asked for (the per-post rate limit).
  ADD COLUMN last_refresh_requested_at TIMESTAMPTZ,
  -- Set when Meta refused the post's insights for good (deleted media, permission gone): no more syncs.
  ADD COLUMN syncs_stopped_reason TEXT,
  -- A Facebook reel is published as a video; its reactions and comments belong to the post behind it.
  ADD COLUMN facebook_post_id TEXT;

CREATE INDEX idx_tracked_posts_published ON analytics.tracked_posts (organisation_id, published_at);

-- Projection of account events (event-carried state transfer): the current token, re-encrypted for this
-- table's column, and whether the account may be called at all.
CREATE TABLE analytics.accounts (
  id UUID PRIMARY KEY,
  organisation_id UUID NOT NULL REFERENCES public.organisations(id) ON DELETE CASCADE,
  platform TEXT NOT NULL CHECK (platform IN ('instagram', 'facebook')),
  account_type TEXT CHECK (account_type IN ('business', 'creator', 'page')),
  platform_account_id TEXT NOT NULL,
  page_id TEXT,
  -- Encrypted with columnContext('analytics.accounts', id, 'access_token'); NULL once disconnected.
  access_token TEXT,
  status TEXT NOT NULL CHECK (status IN ('active', 'expired', 'disconnected', 'error')),
  -- Meta refused the token during a sync: the account's syncs wait for a new token (connected, token-refreshed).
  token_refused_at TIMESTAMPTZ,
  -- A business use case rate limit (80001/80002/32): no call for this account before then.
  paused_until TIMESTAMPTZ,
  created_at TIMESTAMPTZ NOT NULL DEFAULT NOW(),
  updated_at TIMESTAMPTZ NOT NULL DEFAULT NOW()
);

CREATE TRIGGER update_accounts_updated_at
  BEFORE UPDATE ON analytics.accounts
  FOR EACH ROW
  EXECUTE FUNCTION analytics.update_updated_at_column();

-- App-wide pauses (error 4 and friends), shared by every instance.
CREATE TABLE analytics.rate_limit_pauses (
  scope TEXT PRIMARY KEY,
  paused_until TIMESTAMPTZ NOT NULL,
  reason TEXT NOT NULL,
  updated_at TIMESTAMPTZ NOT NULL DEFAULT NOW()
);

-- One row per sync: each scheduled offset exactly once per post (the unique key), plus on-demand refreshes.
-- Instances claim due rows with FOR UPDATE SKIP LOCKED and a lease (lease_owner, lease_until): a crashed
-- instance's claim is taken over when its lease runs out, and only the lease holder may complete a sync.
CREATE TABLE analytics.insight_syncs (
  id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
  post_id UUID NOT NULL REFERENCES analytics.tracked_posts(id) ON DELETE CASCADE,
  social_account_id UUID NOT NULL,
  kind TEXT NOT NULL CHECK (kind IN ('scheduled', 'on-demand')),
  offset_ms BIGINT CHECK ((kind = 'scheduled') = (offset_ms IS NOT NULL)),
  due_at TIMESTAMPTZ NOT NULL,
  next_attempt_at TIMESTAMPTZ NOT NULL,
  status TEXT NOT NULL DEFAULT 'due' CHECK (status IN ('due', 'done', 'unavailable', 'failed', 'stopped')),
  attempts INTEGER NOT NULL DEFAULT 0,
  lease_owner UUID,
  lease_until TIMESTAMPTZ,
  snapshot_id UUID,
  outcome_reason TEXT,
  completed_at TIMESTAMPTZ,
  created_at TIMESTAMPTZ NOT NULL DEFAULT NOW(),
  UNIQUE (post_id, offset_ms)
);

CREATE INDEX idx_insight_syncs_due ON analytics.insight_syncs (next_attempt_at) WHERE status = 'due';
CREATE INDEX idx_insight_syncs_account ON analytics.insight_syncs (social_account_id) WHERE status = 'due';

REVOKE ALL ON analytics.accounts, analytics.rate_limit_pauses, analytics.insight_syncs FROM analytics_app;
