-- The publishing engine's bookkeeping (services/publisher/src/workers/publishing-engine.ts).
--
-- A post is claimed by one publisher instance at a time through a lease (claimed_by, claimed_until) taken
-- with FOR UPDATE SKIP LOCKED; a lease that runs out (the instance died) lets another instance resume it.
-- publish_state is what the platform flow has done so far (container ids, a write that was sent), saved
-- before each call that builds on it, so a resumed post never creates or publishes twice.
ALTER TABLE publisher.social_media_posts
  ADD COLUMN publish_state JSONB NOT NULL DEFAULT '{}'::jsonb CHECK (jsonb_typeof(publish_state) = 'object'),
  -- When a processing post is looked at again: a container still processing, a retry's backoff, a quota wait.
  ADD COLUMN next_attempt_at TIMESTAMPTZ,
  ADD COLUMN claimed_by TEXT,
  ADD COLUMN claimed_until TIMESTAMPTZ,
  -- When the first publishing attempt began: reconciliation looks for the post's media from here on.
  ADD COLUMN publishing_started_at TIMESTAMPTZ,
  -- The attempt (retry_count + 1) for which post.publishing was emitted, so a resumed claim emits it once.
  ADD COLUMN announced_attempt INTEGER NOT NULL DEFAULT 0,
  -- The last failure as the post.failed / post.retrying events carry it (ErrorInfo).
  ADD COLUMN last_error JSONB,
  -- Saved right after the first comment is created, so a resumed post never comments twice.
  ADD COLUMN first_comment_id TEXT,
  ADD CONSTRAINT claim_is_whole CHECK ((claimed_by IS NULL) = (claimed_until IS NULL));

-- The claim query: due queued posts (scheduled_for) and processing posts whose next look is due, in due order.
-- next_attempt_at is NULL except while a post is processing.
CREATE INDEX idx_social_posts_due ON publisher.social_media_posts ((COALESCE(next_attempt_at, scheduled_for)), id)
  WHERE status IN ('queued', 'processing');

-- Posts claimed right now, per organisation: the claim query gives organisations with fewer posts in hand
-- their turn first (round robin across passes, not only within one).
CREATE INDEX idx_social_posts_claimed ON publisher.social_media_posts (organisation_id) WHERE claimed_by IS NOT NULL;

-- One post per account at a time: the account row is the lock every instance takes (FOR UPDATE SKIP LOCKED)
-- and its lease says which instance is publishing to it. paused_until holds an account back while Meta's
-- rate limit or the publishing quota says so.
ALTER TABLE publisher.accounts
  ADD COLUMN claimed_by TEXT,
  ADD COLUMN claimed_until TIMESTAMPTZ,
  ADD COLUMN paused_until TIMESTAMPTZ,
  ADD COLUMN paused_reason TEXT CHECK (paused_reason IN ('rate-limit', 'quota')),
  ADD CONSTRAINT account_claim_is_whole CHECK ((claimed_by IS NULL) = (claimed_until IS NULL));
