ALTER TABLE publisher.accounts
  DROP CONSTRAINT account_claim_is_whole,
  DROP COLUMN paused_reason,
  DROP COLUMN paused_until,
  DROP COLUMN claimed_until,
  DROP COLUMN claimed_by;

DROP INDEX publisher.idx_social_posts_claimed;
DROP INDEX publisher.idx_social_posts_due;

ALTER TABLE publisher.social_media_posts
  DROP CONSTRAINT claim_is_whole,
  DROP COLUMN first_comment_id,
  DROP COLUMN last_error,
  DROP COLUMN announced_attempt,
  DROP COLUMN publishing_started_at,
  DROP COLUMN claimed_until,
  DROP COLUMN claimed_by,
  DROP COLUMN next_attempt_at,
  DROP COLUMN publish_state;
