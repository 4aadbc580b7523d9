-- Back to what accounts_app has before 004: nothing (prepare grants it nothing by default).
REVOKE ALL ON accounts.social_media_accounts FROM accounts_app;
