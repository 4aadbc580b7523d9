-- Stream tickets that opened a GET /v1/events stream: a ticket opens one stream, on whichever instance.
-- A row is needed only until its ticket expires; the pruning worker removes it a while after.

CREATE TABLE gateway.event_stream_tickets (
  id UUID PRIMARY KEY,
  organisation_id UUID NOT NULL REFERENCES public.organisations(id) ON DELETE CASCADE,
  user_id UUID NOT NULL,
  expires_at TIMESTAMPTZ NOT NULL,
  redeemed_at TIMESTAMPTZ NOT NULL DEFAULT NOW()
);

CREATE INDEX event_stream_tickets_expires_at_idx ON gateway.event_stream_tickets (expires_at);

ALTER TABLE gateway.event_stream_tickets ENABLE ROW LEVEL SECURITY;

-- Whether the user still belongs to the organisation is checked (through the membership cache) before, as for
-- a bearer token: the policy keeps each user to recording their own tickets.
CREATE POLICY "Users redeem their own stream tickets"
  ON gateway.event_stream_tickets FOR INSERT
  WITH CHECK (user_id = auth.uid());

-- gateway_app records a ticket for its user and reads nothing back (ON CONFLICT DO NOTHING without a target
-- needs no SELECT).
GRANT INSERT ON gateway.event_stream_tickets TO gateway_app;
