-- One unfinished sanitize run per share. A run's inventory replaces the share's
-- inventory rows, so a second run beside it would reconcile against the other's walk
-- (and its report would call everything missing). A run whose workflow ended without
-- finishing it is closed as FAILED by the next run's start (activities/sanitize.ts).
CREATE UNIQUE INDEX sanitize_run_one_active ON sanitize_run (tenant_id, share_name)
  WHERE status IN ('INVENTORY', 'RECONCILING', 'AWAITING_APPROVAL', 'EXECUTING');
