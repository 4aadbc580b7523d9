DROP TABLE gateway.event_stream_tickets;
