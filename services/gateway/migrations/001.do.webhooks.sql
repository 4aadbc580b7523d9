-- What the gateway itself keeps (DESIGN.md rule 3): webhook endpoints, their deliveries and each attempt,
-- and the inbox that makes the webhook fan-out consumer idempotent. Runs as gateway_owner.

CREATE TABLE gateway.webhook_endpoints (
  id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
  organisation_id UUID NOT NULL REFERENCES public.organisations(id) ON DELETE CASCADE,
  url TEXT NOT NULL CHECK (url ~ '^https?://' AND length(url) <= 2048),
  description TEXT CHECK (length(description) <= 500),
  -- Empty: every event type.
  event_types TEXT[] NOT NULL DEFAULT '{}',
  -- The signing secret, encrypted with the token key ring (AAD binds it to this row and column).
  secret TEXT NOT NULL,
  enabled BOOLEAN NOT NULL DEFAULT true,
  disabled_reason TEXT,
  disabled_at TIMESTAMPTZ,
  -- Failed attempts since the last success, and when that streak began (the disable rule reads both).
  consecutive_failures INTEGER NOT NULL DEFAULT 0 CHECK (consecutive_failures >= 0),
  failing_since TIMESTAMPTZ,
  created_by UUID NOT NULL,
  created_at TIMESTAMPTZ NOT NULL DEFAULT NOW(),
  updated_at TIMESTAMPTZ NOT NULL DEFAULT NOW(),
  CHECK (enabled OR disabled_reason IS NOT NULL)
);

CREATE INDEX webhook_endpoints_organisation_idx ON gateway.webhook_endpoints (organisation_id, created_at, id);

CREATE OR REPLACE FUNCTION gateway.update_updated_at_column()
RETURNS TRIGGER AS $$
BEGIN
  NEW.updated_at = NOW();
  RETURN NEW;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER update_webhook_endpoints_updated_at
  BEFORE UPDATE ON gateway.webhook_endpoints
  FOR EACH ROW EXECUTE FUNCTION gateway.update_updated_at_column();

-- One message per (endpoint, event): the fan-out consumer may see an event twice, the endpoint gets it once.
CREATE TABLE gateway.webhook_deliveries (
  id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
  organisation_id UUID NOT NULL REFERENCES public.organisations(id) ON DELETE CASCADE,
  endpoint_id UUID NOT NULL REFERENCES gateway.webhook_endpoints(id) ON DELETE CASCADE,
  -- The CloudEvent id: the message's webhook-id, the same on every attempt.
  event_id UUID NOT NULL,
  event_type TEXT NOT NULL,
  event_time TIMESTAMPTZ NOT NULL,
  -- The body as sent: {type, timestamp, data} with the public payload (never a token).
  payload JSONB NOT NULL,
  status TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'succeeded', 'failed')),
  attempts INTEGER NOT NULL DEFAULT 0 CHECK (attempts >= 0),
  -- Due time while pending; a claimed delivery's lease: a worker that dies leaves it due again then.
  next_attempt_at TIMESTAMPTZ NOT NULL DEFAULT NOW(),
  last_error TEXT,
  -- Set by a manual redelivery, so its attempt is logged as one; the worker clears it.
  manual BOOLEAN NOT NULL DEFAULT false,
  created_at TIMESTAMPTZ NOT NULL DEFAULT NOW(),
  completed_at TIMESTAMPTZ,
  UNIQUE (endpoint_id, event_id)
);

CREATE INDEX webhook_deliveries_due_idx ON gateway.webhook_deliveries (next_attempt_at) WHERE status = 'pending';
CREATE INDEX webhook_deliveries_endpoint_idx ON gateway.webhook_deliveries (endpoint_id, created_at DESC, id DESC);

CREATE TABLE gateway.webhook_delivery_attempts (
  id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
  delivery_id UUID NOT NULL REFERENCES gateway.webhook_deliveries(id) ON DELETE CASCADE,
  organisation_id UUID NOT NULL REFERENCES public.organisations(id) ON DELETE CASCADE,
  attempt INTEGER NOT NULL CHECK (attempt >= 1),
  -- 'manual': a redelivery someone asked for.
  trigger TEXT NOT NULL CHECK (trigger IN ('scheduled', 'manual')),
  started_at TIMESTAMPTZ NOT NULL,
  duration_ms INTEGER NOT NULL CHECK (duration_ms >= 0),
  response_status INTEGER,
  -- At most the first 1 KiB of what the endpoint answered, for the log.
  response_body TEXT CHECK (length(response_body) <= 1024),
  error TEXT,
  succeeded BOOLEAN NOT NULL,
  UNIQUE (delivery_id, attempt)
);

-- Events the fan-out consumer has applied (DESIGN.md rule 5).
CREATE TABLE gateway.inbox (
  consumer TEXT NOT NULL,
  event_id UUID NOT NULL,
  event_type TEXT NOT NULL,
  topic TEXT NOT NULL,
  kafka_partition INTEGER NOT NULL,
  kafka_offset TEXT NOT NULL,
  processed_at TIMESTAMPTZ NOT NULL DEFAULT NOW(),
  PRIMARY KEY (consumer, event_id)
);

CREATE INDEX inbox_processed_at_idx ON gateway.inbox (processed_at);

ALTER TABLE gateway.webhook_endpoints ENABLE ROW LEVEL SECURITY;
ALTER TABLE gateway.webhook_deliveries ENABLE ROW LEVEL SECURITY;
ALTER TABLE gateway.webhook_delivery_attempts ENABLE ROW LEVEL SECURITY;

CREATE POLICY "Users manage their organisation's webhook endpoints"
  ON gateway.webhook_endpoints FOR ALL
  USING (organisation_id IN (SELECT organisation_id FROM public.users WHERE id = auth.uid()))
  WITH CHECK (organisation_id IN (SELECT organisation_id FROM public.users WHERE id = auth.uid()));

CREATE POLICY "Users see their organisation's webhook deliveries"
  ON gateway.webhook_deliveries FOR SELECT
  USING (organisation_id IN (SELECT organisation_id FROM public.users WHERE id = auth.uid()));

CREATE POLICY "Users redeliver their organisation's webhook deliveries"
  ON gateway.webhook_deliveries FOR UPDATE
  USING (organisation_id IN (SELECT organisation_id FROM public.users WHERE id = auth.uid()))
  WITH CHECK (organisation_id IN (SELECT organisation_id FROM public.users WHERE id = auth.uid()));

CREATE POLICY "Users see their organisation's webhook delivery attempts"
  ON gateway.webhook_delivery_attempts FOR SELECT
  USING (organisation_id IN (SELECT organisation_id FROM public.users WHERE id = auth.uid()));

-- gateway_app acts for one user at a time: it manages that organisation's endpoints, reads its delivery log
-- and may make a delivery due again (manual redelivery). Attempts, the inbox and the version table are the
-- worker's and the owner's.
GRANT SELECT, INSERT, UPDATE, DELETE ON gateway.webhook_endpoints TO gateway_app;
GRANT SELECT ON gateway.webhook_deliveries, gateway.webhook_delivery_attempts TO gateway_app;
GRANT UPDATE (status, next_attempt_at, manual) ON gateway.webhook_deliveries TO gateway_app;
