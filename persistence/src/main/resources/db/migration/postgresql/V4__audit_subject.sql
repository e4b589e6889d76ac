-- The OAuth access token's subject (gateway.oauth.subject_claim) of a call made with a token
-- instead of a virtual key; null for key calls. Nullable: older nodes keep inserting without it.
ALTER TABLE bastion_audit ADD COLUMN IF NOT EXISTS subject VARCHAR(255);
