-- A third table, added with no code: see schemas/README.md, "Add a table".
-- Each row is one customer's subscription; its plan and status become properties of the
-- customer's contact (found by email), written by subscriptions.yaml.
CREATE TABLE IF NOT EXISTS public.subscriptions (
    id             bigserial PRIMARY KEY,
    customer_email text NOT NULL,
    plan           text NOT NULL,
    status         text NOT NULL,
    updated_at     timestamptz NOT NULL DEFAULT now()
);
