-- Scan ingestion and access-time updates: the one 64-bit directory path hash every
-- writer of `dir` uses, the file table tuned for bulk loads, the api's rights for
-- chunk status and access batches, and the re-warm flags that tiering reads.

-- dir.path_hash for a path. hashtextextended is stable across platforms and major
-- versions (hash partitioning depends on it); the SQL body is inlined by the planner.
CREATE FUNCTION dir_path_hash(p_path text) RETURNS bigint
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$ SELECT hashtextextended(p_path, 0) $$;

-- The file table for bulk loads (measured: per-row FK checks and index inserts are
-- nearly all of the cost of loading a chunk). One composite foreign key to the scan
-- replaces the separate tenant and scan keys: one check per row less, and it also
-- guarantees a file row belongs to its scan's tenant. The access-time index keys on
-- the scan (every atime lookup, e.g. a tiering plan, is within one scan) and drops
-- the redundant tenant column, so it is smaller and cheaper to maintain.
ALTER TABLE scan ADD CONSTRAINT scan_tenant_id_id_key UNIQUE (tenant_id, id);
ALTER TABLE file
  DROP CONSTRAINT file_tenant_id_fkey,
  DROP CONSTRAINT file_scan_id_fkey,
  ADD CONSTRAINT file_scan_fkey FOREIGN KEY (tenant_id, scan_id) REFERENCES scan (tenant_id, id) ON DELETE CASCADE;
DROP INDEX file_tenant_atime;
CREATE INDEX file_scan_atime ON file (scan_id, atime_unix);

-- Access batches are applied in the order they arrived.
ALTER TABLE staging_lucid_audit ADD COLUMN staged_at timestamptz NOT NULL DEFAULT clock_timestamp();

-- A file whose access time moved forward through an access update. Tiering reads it:
-- a PLANNED tier_object of such a path is stale (unplan it), a STUBBED one is a
-- candidate for rehydration; whoever acts sets handled_at.
CREATE TABLE rewarmed_file (
  tenant_id      uuid NOT NULL REFERENCES tenant(id),
  full_path      text NOT NULL,
  dir_id         bigint NOT NULL REFERENCES dir(id),
  name           text NOT NULL,
  volume_id      text NOT NULL,
  last_accessed  bigint NOT NULL,
  audit_event_id text NOT NULL,
  flagged_at     timestamptz NOT NULL DEFAULT now(),
  handled_at     timestamptz,
  PRIMARY KEY (tenant_id, full_path)
);
CREATE INDEX rewarmed_file_open ON rewarmed_file (tenant_id, flagged_at) WHERE handled_at IS NULL;

ALTER TABLE rewarmed_file ENABLE ROW LEVEL SECURITY;
ALTER TABLE rewarmed_file FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON rewarmed_file
  USING (tenant_id = current_tenant()) WITH CHECK (tenant_id = current_tenant());

GRANT SELECT, INSERT, UPDATE ON rewarmed_file TO strata_ingest;
GRANT SELECT, UPDATE ON rewarmed_file TO strata_planner, strata_actor, strata_sanitizer;
GRANT SELECT ON rewarmed_file TO strata_api, strata_report, strata_remediator, strata_indexer;

-- api: stage access batches (applied by the accessUpdates workflow) and see which
-- events were already processed; read scan progress.
GRANT SELECT, INSERT ON staging_lucid_audit TO strata_api;
GRANT SELECT ON lucid_audit_processed TO strata_api;
