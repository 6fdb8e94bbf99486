DROP TABLE webhook_attempts;
DROP TABLE webhook_deliveries;
DROP TABLE webhook_endpoints;
ALTER TABLE partner_clients DROP COLUMN contact_email;
