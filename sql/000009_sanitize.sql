-- Sanitize: the Tier-2 inventory, reconciliation runs with their stored report
-- (items, totals, content hash), and each item's execution outcome.

CREATE TABLE tier2_inventory (
  tenant_id      uuid NOT NULL REFERENCES tenant(id),
  share_name     text NOT NULL,
  target_uri     text NOT NULL,
  size_bytes     bigint NOT NULL CHECK (size_bytes >= 0),
  tag_full_path  text,
  discovered_at  timestamptz NOT NULL DEFAULT now(),
  last_seen_run  uuid NOT NULL,
  UNIQUE (tenant_id, target_uri)
);
CREATE INDEX tier2_inventory_share ON tier2_inventory (tenant_id, share_name, last_seen_run);

CREATE TABLE sanitize_run (
  id            uuid PRIMARY KEY,
  tenant_id     uuid NOT NULL REFERENCES tenant(id),
  share_name    text NOT NULL,
  requested_by  text NOT NULL,
  workflow_id   text NOT NULL,
  options       jsonb NOT NULL,
  status        text NOT NULL DEFAULT 'INVENTORY' CHECK (status IN ('INVENTORY', 'RECONCILING', 'DRY_RUN',
                  'AWAITING_APPROVAL', 'REJECTED', 'EXPIRED', 'EXECUTING', 'COMPLETED', 'FAILED')),
  scan_id       bigint,
  inventoried   bigint NOT NULL DEFAULT 0,
  report_hash   text CHECK (report_hash ~ '^[0-9a-f]{64}$'),
  totals        jsonb NOT NULL DEFAULT '{}'::jsonb,
  summary       jsonb NOT NULL DEFAULT '{}'::jsonb,
  action_id     uuid REFERENCES action(id),
  created_at    timestamptz NOT NULL DEFAULT now(),
  updated_at    timestamptz NOT NULL DEFAULT now(),
  finished_at   timestamptz
);
CREATE INDEX sanitize_run_tenant ON sanitize_run (tenant_id, status, created_at DESC);

CREATE TABLE sanitize_item (
  tenant_id       uuid NOT NULL REFERENCES tenant(id),
  run_id          uuid NOT NULL REFERENCES sanitize_run(id),
  item_no         integer NOT NULL,
  category        text NOT NULL CHECK (category IN ('MISSING', 'ORPHAN', 'STALE', 'BROKEN_REF')),
  proposed_action text NOT NULL CHECK (proposed_action IN ('quarantine_orphan', 'delete_orphan', 'requeue_missing',
                    'flag_missing', 'unplan_stale', 'rehydrate_stale', 'close_broken_ref')),
  destructive     boolean NOT NULL,
  full_path       text,
  target_uri      text,
  size_bytes      bigint,
  tier_object_id  bigint,
  tier_state      text,
  outcome         text CHECK (outcome IN ('done', 'skipped')),
  outcome_reason  text,
  executed_at     timestamptz,
  PRIMARY KEY (tenant_id, run_id, item_no)
);
CREATE INDEX sanitize_item_pending ON sanitize_item (tenant_id, run_id, destructive, item_no) WHERE outcome IS NULL;

DO $$
DECLARE t text;
BEGIN
  FOREACH t IN ARRAY ARRAY['tier2_inventory', 'sanitize_run', 'sanitize_item'] LOOP
    EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
    EXECUTE format('ALTER TABLE %I FORCE ROW LEVEL SECURITY', t);
    EXECUTE format('CREATE POLICY tenant_isolation ON %I USING (tenant_id = current_tenant())'
                   ' WITH CHECK (tenant_id = current_tenant())', t);
  END LOOP;
END
$$;

GRANT SELECT, INSERT, UPDATE, DELETE ON tier2_inventory TO strata_sanitizer;
GRANT SELECT, INSERT, UPDATE, DELETE ON sanitize_item TO strata_sanitizer;
GRANT SELECT, INSERT, UPDATE ON sanitize_run TO strata_sanitizer;
GRANT SELECT ON tier2_inventory, sanitize_run, sanitize_item TO strata_api, strata_report;
GRANT SELECT, UPDATE, DELETE ON tier_object TO strata_sanitizer;
GRANT SELECT ON tier_share_root, tier2_target TO strata_sanitizer;
GRANT SELECT, INSERT, UPDATE ON action, action_event TO strata_sanitizer;
