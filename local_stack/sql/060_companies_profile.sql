-- The company profile marketing segments by (issue 16): industry, size, plan, country, and an
-- updated_at like customers'. Captured by Debezium with the rest of public.companies.
ALTER TABLE companies
    ADD COLUMN IF NOT EXISTS industry   TEXT,
    ADD COLUMN IF NOT EXISTS employees  INTEGER CHECK (employees >= 0),
    ADD COLUMN IF NOT EXISTS plan       TEXT,
    ADD COLUMN IF NOT EXISTS country    CHAR(2),
    ADD COLUMN IF NOT EXISTS updated_at TIMESTAMPTZ NOT NULL DEFAULT now();

DROP TRIGGER IF EXISTS companies_touch_updated_at ON companies;
CREATE TRIGGER companies_touch_updated_at BEFORE UPDATE ON companies
    FOR EACH ROW EXECUTE FUNCTION touch_updated_at();
