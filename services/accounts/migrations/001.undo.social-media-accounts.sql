DROP FUNCTION accounts.get_account_capabilities(UUID);
DROP TABLE accounts.social_media_accounts;
DROP FUNCTION accounts.update_updated_at_column();
