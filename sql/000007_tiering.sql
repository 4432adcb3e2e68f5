-- Tiering: where a share's files live (host + root), where they go (Tier-2 target,
-- credentials sealed with the tenant data key), the per-file tiering state machine,
-- tiering plans, and the generic action + action_event log of world-changing runs.

CREATE TABLE tier_share_root (
  tenant_id        uuid NOT NULL REFERENCES tenant(id),
  share_name       text NOT NULL CHECK (length(share_name) BETWEEN 1 AND 255),
  host_id          text NOT NULL CHECK (host_id ~ '^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$'),
  root_path        text NOT NULL CHECK (root_path ~ '^/' AND (root_path = '/' OR root_path !~ '/$')),
  -- The prefix the scan's directory paths carry for this share (e.g. D:\Shares\Projects);
  -- what follows it is the path below root_path on the host.
  scan_path_prefix text NOT NULL DEFAULT '',
  updated_by       text NOT NULL,
  created_at       timestamptz NOT NULL DEFAULT now(),
  updated_at       timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, share_name)
);

CREATE TABLE tier2_target (
  tenant_id          uuid NOT NULL REFERENCES tenant(id),
  share_name         text NOT NULL CHECK (length(share_name) BETWEEN 1 AND 255),
  uri                text NOT NULL CHECK (uri ~ '^[a-z][a-z0-9+.-]*://' AND uri !~ '/$'),
  -- AES-256-GCM with the tenant data key (lib/envelope.ts); never plaintext.
  sealed_credentials text CHECK (sealed_credentials IS NULL OR sealed_credentials LIKE 'env1.%'),
  updated_by         text NOT NULL,
  created_at         timestamptz NOT NULL DEFAULT now(),
  updated_at         timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, share_name)
);

CREATE TABLE tiering_plan (
  id            uuid PRIMARY KEY,
  tenant_id     uuid NOT NULL REFERENCES tenant(id),
  share_name    text NOT NULL,
  scan_id       bigint REFERENCES scan(id) ON DELETE SET NULL,
  policy        jsonb NOT NULL,
  status        text NOT NULL DEFAULT 'PLANNING' CHECK (status IN ('PLANNING', 'PLANNED', 'FAILED')),
  status_reason text,
  -- Idle age is measured from this instant, so a retried plan selects the same files.
  as_of         timestamptz NOT NULL DEFAULT now(),
  requested_by  text NOT NULL,
  workflow_id   text NOT NULL,
  -- Resumable cursor and counters, written in the same transaction as each page.
  progress      jsonb NOT NULL DEFAULT '{}'::jsonb,
  summary       jsonb NOT NULL DEFAULT '{}'::jsonb,
  planned_files bigint NOT NULL DEFAULT 0,
  planned_bytes bigint NOT NULL DEFAULT 0,
  created_at    timestamptz NOT NULL DEFAULT now(),
  finished_at   timestamptz
);
CREATE INDEX tiering_plan_tenant_created ON tiering_plan (tenant_id, created_at DESC);

CREATE TABLE tier_object (
  id                bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  tenant_id         uuid NOT NULL REFERENCES tenant(id),
  share_name        text NOT NULL,
  full_path         text NOT NULL,
  -- '/'-joined path below the share's root_path; segments validated at plan time.
  rel_path          text NOT NULL,
  dir_id            bigint NOT NULL REFERENCES dir(id),
  name              text NOT NULL,
  target_uri        text NOT NULL,
  size_bytes        bigint NOT NULL CHECK (size_bytes >= 0),
  atime_unix        bigint NOT NULL,
  mtime_unix        bigint NOT NULL,
  content_sha256    text CHECK (content_sha256 ~ '^[0-9a-f]{64}$'),
  state             text NOT NULL CHECK (state IN ('PLANNED', 'STUBBED', 'REHYDRATED', 'DELETED')),
  plan_id           uuid REFERENCES tiering_plan(id),
  planned_by        text NOT NULL,
  planned_at        timestamptz NOT NULL DEFAULT now(),
  acted_at          timestamptz,
  rehydrated_at     timestamptz,
  rewarmed          boolean NOT NULL DEFAULT false,
  rewarmed_at       timestamptz,
  last_action_id    uuid,
  pending_action_id uuid,
  last_outcome      text,
  last_outcome_at   timestamptz,
  updated_at        timestamptz NOT NULL DEFAULT now(),
  UNIQUE (tenant_id, full_path),
  CHECK (state <> 'STUBBED' OR (content_sha256 IS NOT NULL AND acted_at IS NOT NULL))
);
CREATE INDEX tier_object_plan ON tier_object (tenant_id, plan_id, state, id);
CREATE INDEX tier_object_state ON tier_object (tenant_id, state, share_name);
CREATE INDEX tier_object_target ON tier_object (tenant_id, target_uri);
CREATE INDEX tier_object_file ON tier_object (tenant_id, dir_id, name);
CREATE INDEX tier_object_pending ON tier_object (tenant_id, pending_action_id, id) WHERE pending_action_id IS NOT NULL;

-- Every run that changes the world (tiering act, rehydrate, sanitize execution,
-- remediation) is one action; action_event keeps its status changes and notable events.
CREATE TABLE action (
  id           uuid PRIMARY KEY,
  tenant_id    uuid NOT NULL REFERENCES tenant(id),
  kind         text NOT NULL CHECK (kind ~ '^[a-z][a-z0-9_.-]{1,62}$'),
  subject      text NOT NULL DEFAULT '',
  share_name   text,
  requested_by text NOT NULL,
  status       text NOT NULL DEFAULT 'queued'
               CHECK (status IN ('queued', 'preflight', 'in_progress', 'verifying', 'completed', 'failed', 'rolled_back')),
  workflow_id  text,
  summary      jsonb NOT NULL DEFAULT '{}'::jsonb,
  created_at   timestamptz NOT NULL DEFAULT now(),
  updated_at   timestamptz NOT NULL DEFAULT now(),
  finished_at  timestamptz
);
CREATE INDEX action_tenant_kind ON action (tenant_id, kind, created_at DESC);
CREATE INDEX action_tenant_subject ON action (tenant_id, subject, created_at DESC);

CREATE TABLE action_event (
  id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  tenant_id   uuid NOT NULL REFERENCES tenant(id),
  action_id   uuid NOT NULL REFERENCES action(id),
  at          timestamptz NOT NULL DEFAULT clock_timestamp(),
  event       text NOT NULL CHECK (length(event) BETWEEN 1 AND 100),
  from_status text,
  to_status   text NOT NULL,
  details     jsonb NOT NULL DEFAULT '{}'::jsonb,
  -- Makes a retried activity's event land once.
  event_key   text,
  UNIQUE (tenant_id, action_id, event_key)
);
CREATE INDEX action_event_action ON action_event (tenant_id, action_id, id);

-- Which status changes an action may make; the same status again is a no-op.
CREATE FUNCTION action_status_allowed(p_from text, p_to text) RETURNS boolean
LANGUAGE sql IMMUTABLE AS $$
  SELECT p_from = p_to OR (p_from, p_to) IN (
    ('queued', 'preflight'), ('queued', 'in_progress'), ('queued', 'failed'),
    ('preflight', 'in_progress'), ('preflight', 'completed'), ('preflight', 'failed'),
    ('in_progress', 'verifying'), ('in_progress', 'completed'), ('in_progress', 'failed'), ('in_progress', 'rolled_back'),
    ('verifying', 'in_progress'), ('verifying', 'completed'), ('verifying', 'failed'), ('verifying', 'rolled_back'),
    ('completed', 'rolled_back'), ('failed', 'rolled_back'))
$$;

CREATE FUNCTION action_status_guard() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  IF NOT action_status_allowed(OLD.status, NEW.status) THEN
    RAISE EXCEPTION 'action % may not go from % to %', OLD.id, OLD.status, NEW.status
      USING ERRCODE = 'check_violation';
  END IF;
  NEW.updated_at := now();
  IF NEW.status IN ('completed', 'failed', 'rolled_back') AND OLD.status <> NEW.status THEN
    NEW.finished_at := now();
  END IF;
  RETURN NEW;
END
$$;

CREATE TRIGGER action_status_guard BEFORE UPDATE ON action
  FOR EACH ROW EXECUTE FUNCTION action_status_guard();

DO $$
DECLARE t text;
BEGIN
  FOREACH t IN ARRAY ARRAY['tier_share_root', 'tier2_target', 'tiering_plan', 'tier_object', 'action', 'action_event'] LOOP
    EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
    EXECUTE format('ALTER TABLE %I FORCE ROW LEVEL SECURITY', t);
    EXECUTE format('CREATE POLICY tenant_isolation ON %I USING (tenant_id = current_tenant())'
                   ' WITH CHECK (tenant_id = current_tenant())', t);
  END LOOP;
END
$$;

-- api: configures shares and targets (seals credentials itself), records plan
-- requests, reads everything for status pages and reports.
GRANT SELECT, INSERT, UPDATE ON tier_share_root, tier2_target, tiering_plan TO strata_api;
GRANT SELECT ON tier_object TO strata_api;
GRANT SELECT, INSERT, UPDATE ON action TO strata_api;
GRANT SELECT, INSERT ON action_event TO strata_api;

-- planner: selects from the index into tier_object; sees target URIs, not credentials.
GRANT SELECT ON tier_share_root TO strata_planner;
GRANT SELECT (tenant_id, share_name, uri, updated_at) ON tier2_target TO strata_planner;
GRANT SELECT, UPDATE ON tiering_plan TO strata_planner;
GRANT SELECT, INSERT, UPDATE ON tier_object TO strata_planner;

-- actor: runs act and rehydrate on the host, opening the target credentials there.
GRANT SELECT ON tier_share_root, tier2_target, tiering_plan TO strata_actor;
GRANT SELECT, UPDATE ON tier_object TO strata_actor;
GRANT SELECT ON scan, dir, file TO strata_actor;

-- sanitizer: inventories Tier-2 (needs credentials), re-queues, unplans.
GRANT SELECT ON tier_share_root, tier2_target, tiering_plan TO strata_sanitizer;
GRANT SELECT, UPDATE, DELETE ON tier_object TO strata_sanitizer;

-- report and indexer: read-only views of tiering state; never the sealed credentials.
GRANT SELECT ON tier_share_root, tiering_plan, tier_object TO strata_report, strata_indexer, strata_remediator;
GRANT SELECT (tenant_id, share_name, uri, updated_by, created_at, updated_at) ON tier2_target TO strata_report;

-- ingest: access updates may flag re-warmed tier objects directly.
GRANT SELECT (id, tenant_id, share_name, full_path, dir_id, name, state, rewarmed, rewarmed_at) ON tier_object TO strata_ingest;
GRANT UPDATE (rewarmed, rewarmed_at, updated_at) ON tier_object TO strata_ingest;

-- every world-changing role records its runs.
GRANT SELECT, INSERT, UPDATE ON action TO strata_actor, strata_sanitizer, strata_remediator;
GRANT SELECT, INSERT ON action_event TO strata_actor, strata_sanitizer, strata_remediator;
GRANT SELECT ON action, action_event TO strata_report, strata_planner;
GRANT EXECUTE ON FUNCTION action_status_allowed(text, text) TO strata_api, strata_actor, strata_sanitizer, strata_remediator;
