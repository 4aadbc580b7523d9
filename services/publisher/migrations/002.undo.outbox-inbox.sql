DROP TABLE publisher.inbox;
DROP TRIGGER outbox_notify ON publisher.outbox;
DROP TABLE publisher.outbox;
DROP FUNCTION publisher.notify_outbox();
