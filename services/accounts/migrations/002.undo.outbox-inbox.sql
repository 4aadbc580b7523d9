DROP TABLE accounts.inbox;
DROP TRIGGER outbox_notify ON accounts.outbox;
DROP TABLE accounts.outbox;
DROP FUNCTION accounts.notify_outbox();
