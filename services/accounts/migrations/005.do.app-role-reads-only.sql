-- accounts_app serves user-scoped requests, and those only read: a connect or a disconnect reaches this
-- service as a request event, applied by accounts_worker. So accounts_app keeps SELECT, where the seed's
-- policies decide what a user sees, and loses the writes it never needed. The seed's INSERT, UPDATE and
-- DELETE policies stay as written (infra/db's isolation test proves them with a role granted writes).
REVOKE INSERT, UPDATE, DELETE ON accounts.social_media_accounts FROM accounts_app;
