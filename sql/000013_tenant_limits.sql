-- Per-tenant rate limits and quotas (seed 001): a row only where a tenant differs
-- from the install defaults (a NULL column means "the default"). The api reads it
-- and answers 429 with Retry-After when a tenant goes over; nothing falls over.

CREATE TABLE tenant_limits (
  tenant_id              uuid PRIMARY KEY REFERENCES tenant(id),
  requests_per_second    integer CHECK (requests_per_second BETWEEN 1 AND 100000),
  burst                  integer CHECK (burst BETWEEN 1 AND 1000000),
  max_concurrent_uploads integer CHECK (max_concurrent_uploads BETWEEN 1 AND 10000),
  max_rows_per_day       bigint  CHECK (max_rows_per_day BETWEEN 1 AND 1000000000000),
  updated_by             text NOT NULL,
  updated_at             timestamptz NOT NULL DEFAULT now()
);

ALTER TABLE tenant_limits ENABLE ROW LEVEL SECURITY;
ALTER TABLE tenant_limits FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON tenant_limits
  USING (tenant_id = current_tenant()) WITH CHECK (tenant_id = current_tenant());

GRANT SELECT, INSERT, UPDATE ON tenant_limits TO strata_api;
GRANT SELECT ON tenant_limits TO strata_report;

-- The daily rows quota sums the chunks ingested since midnight UTC.
CREATE INDEX ingest_chunk_tenant_ingested ON ingest_chunk (tenant_id, ingested_at);
