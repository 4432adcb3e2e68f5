-- Remediation snapshots packed per slice: the host saves the state of a slice of up to
-- 1,000 planned files (ACL xattrs, mode, owner, handle) as one row, instead of a row per
-- file. On a 58,500-file run (2026-12-07) the per-file rows cost Postgres about as much
-- CPU as the snapshot's own file work. activities/remediation-snapshot-records.ts has
-- the format. Runs snapshotted before this migration keep their per-file rows in
-- remediation_snapshot; readers take both.

CREATE TABLE remediation_snapshot_slice (
  tenant_id   uuid NOT NULL REFERENCES tenant(id),
  run_id      uuid NOT NULL REFERENCES remediation_run(id),
  first_item  integer NOT NULL CHECK (first_item > 0),
  last_item   integer NOT NULL CHECK (last_item >= first_item),
  items       integer NOT NULL CHECK (items BETWEEN 1 AND last_item - first_item + 1),
  -- files that changed or vanished since planning (their items are skipped)
  not_ok      integer NOT NULL CHECK (not_ok BETWEEN 0 AND items),
  records     bytea NOT NULL,
  taken_at    timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, run_id, first_item)
);

ALTER TABLE remediation_snapshot_slice ENABLE ROW LEVEL SECURITY;
ALTER TABLE remediation_snapshot_slice FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON remediation_snapshot_slice USING (tenant_id = current_tenant()) WITH CHECK (tenant_id = current_tenant());

-- Snapshots are written once and never changed: the remediator inserts, nobody updates.
GRANT SELECT, INSERT ON remediation_snapshot_slice TO strata_remediator;
GRANT SELECT ON remediation_snapshot_slice TO strata_api, strata_report;
