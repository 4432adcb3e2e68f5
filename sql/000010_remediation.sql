-- Permission remediation: the run with its plan and hashed report, one transformation
-- per source security descriptor, the work items (files whose descriptor changes, with
-- their target ACL bytes), the pre-change snapshot of every item, and drift checks of
-- completed runs. The run's world-changing status lives in action/action_event.

CREATE TABLE remediation_run (
  id              uuid PRIMARY KEY,
  tenant_id       uuid NOT NULL REFERENCES tenant(id),
  action_id       uuid NOT NULL REFERENCES action(id),
  workflow_id     text NOT NULL,
  requested_by    text NOT NULL,
  scope           jsonb NOT NULL,
  policy          jsonb NOT NULL,
  options         jsonb NOT NULL,
  host_id         text,
  volume          text,
  scan_id         bigint REFERENCES scan(id) ON DELETE SET NULL,
  path_prefix     text,
  status          text NOT NULL DEFAULT 'PLANNING' CHECK (status IN ('PLANNING', 'DRY_RUN', 'AWAITING_APPROVAL', 'REJECTED',
                    'EXPIRED', 'SNAPSHOT', 'APPLYING', 'VERIFYING', 'COMPLETED', 'ROLLING_BACK', 'ROLLED_BACK', 'FAILED')),
  status_reason   text,
  report          jsonb NOT NULL DEFAULT '{}'::jsonb,
  report_hash     text CHECK (report_hash ~ '^[0-9a-f]{64}$'),
  fs_snapshot     jsonb,
  counters        jsonb NOT NULL DEFAULT '{}'::jsonb,
  rollback_until  timestamptz,
  created_at      timestamptz NOT NULL DEFAULT now(),
  updated_at      timestamptz NOT NULL DEFAULT now(),
  finished_at     timestamptz
);
CREATE INDEX remediation_run_tenant ON remediation_run (tenant_id, created_at DESC);
CREATE INDEX remediation_run_completed ON remediation_run (tenant_id, status) WHERE status = 'COMPLETED';

-- One row per unique source descriptor in scope: what the policy makes of it.
CREATE TABLE remediation_transform (
  tenant_id      uuid NOT NULL REFERENCES tenant(id),
  run_id         uuid NOT NULL REFERENCES remediation_run(id),
  source_sd_id   bigint NOT NULL,
  files          bigint NOT NULL,
  outcome        text NOT NULL CHECK (outcome IN ('no_change', 'existing', 'new')),
  target_sd_id   bigint NOT NULL,
  target_acl     bytea NOT NULL,
  target_default bytea,
  target_mode_bits integer NOT NULL CHECK (target_mode_bits BETWEEN 0 AND 511),
  -- The target as a security_descriptor row (registered when the first file gets it).
  target_record  jsonb NOT NULL,
  source_summary text NOT NULL,
  target_summary text NOT NULL,
  PRIMARY KEY (tenant_id, run_id, source_sd_id)
);

-- Files whose descriptor changes, numbered in inode order (the apply order).
CREATE TABLE remediation_item (
  tenant_id        uuid NOT NULL REFERENCES tenant(id),
  run_id           uuid NOT NULL REFERENCES remediation_run(id),
  item_no          integer NOT NULL CHECK (item_no > 0),
  file_id          bigint NOT NULL,
  file_ref         bigint NOT NULL,
  is_dir           boolean NOT NULL,
  path             text NOT NULL,
  source_sd_id     bigint NOT NULL,
  target_sd_id     bigint NOT NULL,
  target_acl       bytea NOT NULL,
  target_default   bytea,
  outcome          text CHECK (outcome IN ('applied', 'already', 'skipped_changed', 'skipped_missing', 'failed')),
  outcome_detail   text,
  applied_at       timestamptz,
  verified         boolean,
  rollback_outcome text CHECK (rollback_outcome IN ('restored', 'unchanged', 'conflict', 'missing', 'failed')),
  rollback_detail  text,
  PRIMARY KEY (tenant_id, run_id, item_no)
) WITH (fillfactor = 60);
-- Every phase reads and updates items by (run, item-number range) through the primary key;
-- no other index, and room on each page, keeps the per-phase outcome updates HOT.

-- The state of every planned file before anything was applied (written before apply).
CREATE TABLE remediation_snapshot (
  tenant_id   uuid NOT NULL REFERENCES tenant(id),
  run_id      uuid NOT NULL REFERENCES remediation_run(id),
  item_no     integer NOT NULL,
  state       text NOT NULL CHECK (state IN ('ok', 'missing', 'changed')),
  file_ref    bigint NOT NULL,
  handle_type integer,
  handle      bytea,
  access_acl  bytea,
  default_acl bytea,
  mode        integer,
  uid         bigint,
  gid         bigint,
  detail      text,
  taken_at    timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, run_id, item_no)
);

-- Each scheduled drift check, and the files found drifted from their run's target.
CREATE TABLE remediation_drift_check (
  id          uuid PRIMARY KEY,
  tenant_id   uuid NOT NULL REFERENCES tenant(id),
  workflow_id text NOT NULL,
  started_at  timestamptz NOT NULL DEFAULT now(),
  finished_at timestamptz,
  runs        integer NOT NULL DEFAULT 0,
  checked     bigint NOT NULL DEFAULT 0,
  drifted     bigint NOT NULL DEFAULT 0,
  problems    jsonb NOT NULL DEFAULT '[]'::jsonb
);
CREATE INDEX remediation_drift_check_recent ON remediation_drift_check (tenant_id, started_at DESC);

CREATE TABLE remediation_drift (
  tenant_id     uuid NOT NULL REFERENCES tenant(id),
  run_id        uuid NOT NULL REFERENCES remediation_run(id),
  item_no       integer NOT NULL,
  path          text NOT NULL,
  state         text NOT NULL CHECK (state IN ('drifted', 'missing')),
  expected_sd_id bigint NOT NULL,
  found         text,
  first_seen_at timestamptz NOT NULL DEFAULT now(),
  last_seen_at  timestamptz NOT NULL DEFAULT now(),
  last_check_id uuid REFERENCES remediation_drift_check(id),
  resolved_at   timestamptz,
  PRIMARY KEY (tenant_id, run_id, item_no)
);
CREATE INDEX remediation_drift_open ON remediation_drift (tenant_id, run_id, item_no) WHERE resolved_at IS NULL;

DO $$
DECLARE t text;
BEGIN
  FOREACH t IN ARRAY ARRAY['remediation_run', 'remediation_transform', 'remediation_item', 'remediation_snapshot',
                           'remediation_drift_check', 'remediation_drift'] LOOP
    EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
    EXECUTE format('ALTER TABLE %I FORCE ROW LEVEL SECURITY', t);
    EXECUTE format('CREATE POLICY tenant_isolation ON %I USING (tenant_id = current_tenant())'
                   ' WITH CHECK (tenant_id = current_tenant())', t);
  END LOOP;
END
$$;

-- remediator: plans, snapshots, applies, verifies, rolls back, checks drift; moves the
-- index rows of changed files to their new descriptor (and mode) and registers new ones.
GRANT SELECT, INSERT, UPDATE, DELETE ON remediation_run, remediation_transform, remediation_item, remediation_snapshot,
  remediation_drift_check, remediation_drift TO strata_remediator;
GRANT UPDATE (security_id, mode) ON file TO strata_remediator;
-- Work tables fill in bulk between phases; the remediator refreshes their statistics
-- (ANALYZE) so the per-batch joins are planned for their real size. MAINTAIN is PG 17+.
DO $$
BEGIN
  IF current_setting('server_version_num')::int >= 170000 THEN
    EXECUTE 'GRANT MAINTAIN ON remediation_transform, remediation_item, remediation_snapshot TO strata_remediator';
  END IF;
END
$$;
GRANT SELECT, INSERT ON security_descriptor TO strata_remediator;

-- api and report: read runs, reports, items and drift for status pages and audits.
GRANT SELECT ON remediation_run, remediation_transform, remediation_item, remediation_snapshot,
  remediation_drift_check, remediation_drift TO strata_api, strata_report;
-- The api records a run as it starts its workflow, so the run can be read at once.
GRANT INSERT ON remediation_run TO strata_api;
