GRANT INSERT, UPDATE, DELETE ON accounts.social_media_accounts TO accounts_app;
