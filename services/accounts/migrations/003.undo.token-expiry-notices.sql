DROP TABLE accounts.token_expiry_notices;
