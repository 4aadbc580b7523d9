-- The seed's social_media_accounts, owned by the accounts service (schema accounts).
-- Runs as accounts_owner; grants to accounts_app / accounts_worker come from default privileges.

CREATE FUNCTION accounts.update_updated_at_column()
RETURNS TRIGGER AS $$
BEGIN
  NEW.updated_at = NOW();
  RETURN NEW;
END;
$$ LANGUAGE plpgsql;

CREATE TABLE accounts.social_media_accounts (
  id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
  organisation_id UUID NOT NULL REFERENCES public.organisations(id) ON DELETE CASCADE,

  platform TEXT NOT NULL CHECK (platform IN ('instagram', 'facebook')),
  account_type TEXT CHECK (account_type IN ('business', 'creator', 'page')),
  platform_account_id TEXT NOT NULL,
  username TEXT,
  profile_picture_url TEXT,

  -- Encrypted at the application level (AES-256-GCM, key id inside the ciphertext).
  access_token TEXT NOT NULL,
  token_expires_at TIMESTAMPTZ,
  refresh_token TEXT,

  page_id TEXT,
  page_name TEXT,

  connected_at TIMESTAMPTZ NOT NULL DEFAULT NOW(),
  last_synced_at TIMESTAMPTZ,
  last_token_refresh TIMESTAMPTZ,

  status TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'expired', 'disconnected', 'error')),
  error_message TEXT,
  connection_error_count INTEGER DEFAULT 0,

  can_publish_feed BOOLEAN DEFAULT true,
  can_publish_stories BOOLEAN DEFAULT false,
  can_publish_reels BOOLEAN DEFAULT false,

  created_at TIMESTAMPTZ NOT NULL DEFAULT NOW(),
  updated_at TIMESTAMPTZ NOT NULL DEFAULT NOW(),

  UNIQUE (organisation_id, platform, platform_account_id)
);

CREATE INDEX idx_social_accounts_org ON accounts.social_media_accounts(organisation_id);
CREATE INDEX idx_social_accounts_platform ON accounts.social_media_accounts(platform);
CREATE INDEX idx_social_accounts_status ON accounts.social_media_accounts(status);
CREATE INDEX idx_social_accounts_token_expiry ON accounts.social_media_accounts(token_expires_at)
  WHERE status = 'active';

ALTER TABLE accounts.social_media_accounts ENABLE ROW LEVEL SECURITY;

CREATE POLICY "Users can view their organisation's social accounts"
  ON accounts.social_media_accounts FOR SELECT
  USING (organisation_id IN (
    SELECT organisation_id FROM public.users WHERE id = auth.uid()
  ));

CREATE POLICY "Users can create social accounts for their organisation"
  ON accounts.social_media_accounts FOR INSERT
  WITH CHECK (organisation_id IN (
    SELECT organisation_id FROM public.users WHERE id = auth.uid()
  ));

CREATE POLICY "Users can update their organisation's social accounts"
  ON accounts.social_media_accounts FOR UPDATE
  USING (organisation_id IN (
    SELECT organisation_id FROM public.users WHERE id = auth.uid()
  ));

CREATE POLICY "Users can delete their organisation's social accounts"
  ON accounts.social_media_accounts FOR DELETE
  USING (organisation_id IN (
    SELECT organisation_id FROM public.users WHERE id = auth.uid()
  ));

CREATE TRIGGER update_social_accounts_updated_at
  BEFORE UPDATE ON accounts.social_media_accounts
  FOR EACH ROW
  EXECUTE FUNCTION accounts.update_updated_at_column();

CREATE FUNCTION accounts.get_account_capabilities(
  p_account_id UUID
) RETURNS TABLE(
  can_post_feed BOOLEAN,
  can_post_stories BOOLEAN,
  can_post_reels BOOLEAN,
  is_active BOOLEAN
) AS $$
BEGIN
  RETURN QUERY
  SELECT
    a.can_publish_feed,
    a.can_publish_stories,
    a.can_publish_reels,
    a.status = 'active'
  FROM accounts.social_media_accounts a
  WHERE a.id = p_account_id;
END;
$$ LANGUAGE plpgsql;
