-- accounts_app acts for one user at a time, where the seed's RLS policies decide. The outbox, the inbox,
-- the expiry notices and the version table belong to accounts_worker and accounts_owner: until now the
-- schema's default privileges gave accounts_app DML on them too, so a user-scoped connection could read
-- every organisation's outbox rows, queue events for the relay, delete inbox rows (a redelivered event
-- would apply twice) and rewrite the migration history. prepare no longer grants accounts_app anything by
-- default; this sets exactly what it has.
REVOKE ALL ON accounts.outbox, accounts.inbox, accounts.token_expiry_notices, accounts.schemaversion FROM accounts_app;
REVOKE ALL ON SEQUENCE accounts.outbox_position_seq FROM accounts_app;
REVOKE ALL ON accounts.social_media_accounts FROM accounts_app;
GRANT SELECT, INSERT, UPDATE, DELETE ON accounts.social_media_accounts TO accounts_app;
