-- The edge's request id (X-Request-Id / traceparent), added after the audit table's first release.
-- IF NOT EXISTS: stores started by a node of that time already got it from the inline ALTER TABLE.
ALTER TABLE bastion_audit ADD COLUMN IF NOT EXISTS request_id VARCHAR(128);
