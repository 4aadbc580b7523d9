-- Transactional outbox and idempotent-consumer inbox for the accounts service (DESIGN.md rule 5).
-- Runs as accounts_owner; accounts_app and accounts_worker get DML on both tables (and the identity sequence)
-- from the schema's default privileges.

-- Every event accounts emits is written here in the same transaction as the state change; the relay
-- (packages/outbox) publishes rows in position order and marks them sent. position comes from an
-- identity column, and writers take a per-key transaction lock before inserting, so for one key the
-- position order is also the commit order.
CREATE TABLE accounts.outbox (
  position BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  event_id UUID NOT NULL UNIQUE,
  topic TEXT NOT NULL,
  message_key TEXT NOT NULL,
  event_type TEXT NOT NULL,
  -- CloudEvents binary-mode headers (ce_*, content-type, traceparent), exactly as they go to Kafka.
  headers JSONB NOT NULL,
  payload JSONB NOT NULL,
  created_at TIMESTAMPTZ NOT NULL DEFAULT clock_timestamp(),
  sent_at TIMESTAMPTZ
) WITH (
  -- Rows are inserted, updated once and deleted soon after: vacuum early so the table stays small.
  autovacuum_vacuum_scale_factor = 0.02,
  autovacuum_analyze_scale_factor = 0.02
);

CREATE INDEX outbox_unsent_idx ON accounts.outbox (position) WHERE sent_at IS NULL;
CREATE INDEX outbox_sent_at_idx ON accounts.outbox (sent_at) WHERE sent_at IS NOT NULL;

-- Wakes the relay as soon as a writing transaction commits (NOTIFY is delivered on commit only, and
-- repeated notifications within one transaction are folded into one). Polling stays as a safety net.
CREATE FUNCTION accounts.notify_outbox()
RETURNS TRIGGER AS $$
BEGIN
  PERFORM pg_notify('accounts_outbox', '');
  RETURN NULL;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER outbox_notify
  AFTER INSERT ON accounts.outbox
  FOR EACH STATEMENT
  EXECUTE FUNCTION accounts.notify_outbox();

-- Event ids each consumer has applied, written in the transaction that applies the event: a
-- redelivered event finds its row and is acknowledged without being applied again.
CREATE TABLE accounts.inbox (
  consumer TEXT NOT NULL,
  event_id UUID NOT NULL,
  event_type TEXT NOT NULL,
  topic TEXT NOT NULL,
  kafka_partition INTEGER NOT NULL,
  kafka_offset BIGINT NOT NULL,
  processed_at TIMESTAMPTZ NOT NULL DEFAULT NOW(),
  PRIMARY KEY (consumer, event_id)
);

CREATE INDEX inbox_processed_at_idx ON accounts.inbox (processed_at);
