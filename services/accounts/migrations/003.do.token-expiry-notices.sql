-- What the expiry scan has announced (token.expiring), so each threshold is announced once per token.
-- Runs as accounts_owner; accounts_worker gets DML from the schema's default privileges.
--
-- token_expires_at is part of the key: a refreshed or reconnected token has a new expiry and starts fresh,
-- with no cleanup. For Page tokens (no expiry of their own) it holds the data access expiry debug_token reports.
CREATE TABLE accounts.token_expiry_notices (
  account_id UUID NOT NULL REFERENCES accounts.social_media_accounts(id) ON DELETE CASCADE,
  threshold_days INTEGER NOT NULL CHECK (threshold_days > 0),
  token_expires_at TIMESTAMPTZ NOT NULL,
  announced_at TIMESTAMPTZ NOT NULL DEFAULT NOW(),
  PRIMARY KEY (account_id, threshold_days, token_expires_at)
);

-- Only the background workers (accounts_worker, BYPASSRLS) read or write notices. RLS is enabled with no
-- policy, so any role that is subject to RLS (accounts_app, acting for a user) sees and changes nothing here
-- even though default privileges grant it DML.
ALTER TABLE accounts.token_expiry_notices ENABLE ROW LEVEL SECURITY;
