DROP TABLE gateway.inbox;
DROP TABLE gateway.webhook_delivery_attempts;
DROP TABLE gateway.webhook_deliveries;
DROP TABLE gateway.webhook_endpoints;
DROP FUNCTION gateway.update_updated_at_column();
