-- Writeback and the outbound guards find customers by the text of their key (our source id
-- travels as text) and by lower-case email: index both expressions (the demo schema's id and
-- email columns; a deployment mapping other columns indexes those) so neither scans the table.
CREATE INDEX IF NOT EXISTS customers_key_text ON customers ((id::text));
CREATE INDEX IF NOT EXISTS customers_email_lower ON customers (lower(email));
