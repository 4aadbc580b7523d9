DROP TABLE analytics.inbox;
DROP TRIGGER outbox_notify ON analytics.outbox;
DROP TABLE analytics.outbox;
DROP FUNCTION analytics.notify_outbox();
