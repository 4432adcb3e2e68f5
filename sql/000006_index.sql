-- Bootstrap indexing of whole volumes: shares, deduplicated security descriptors,
-- the per-volume index state, resumable walk partitions, directory subtree stats,
-- walk issues and the host principals used to answer "who can access what".

-- Birth time from statx where the filesystem records it (NULL otherwise and for agent rows).
ALTER TABLE file ADD COLUMN btime_unix bigint;

CREATE TABLE share (
  id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  tenant_id       uuid NOT NULL REFERENCES tenant(id),
  host_id         text NOT NULL,
  protocol        text NOT NULL CHECK (protocol IN ('smb', 'nfs')),
  name            text NOT NULL CHECK (length(name) BETWEEN 1 AND 4096),
  unc_path        text NOT NULL,
  local_path      text NOT NULL,
  permissions     jsonb NOT NULL DEFAULT '{}',
  remark          text,
  volume          text,
  root_file_ref   bigint,
  is_active       boolean NOT NULL DEFAULT true,
  discovered_at   timestamptz NOT NULL DEFAULT now(),
  last_verified_at timestamptz NOT NULL DEFAULT now(),
  stats_scan_id   bigint REFERENCES scan(id) ON DELETE SET NULL,
  file_count      bigint NOT NULL DEFAULT 0,
  dir_count       bigint NOT NULL DEFAULT 0,
  total_bytes     bigint NOT NULL DEFAULT 0,
  world_files     bigint NOT NULL DEFAULT 0,
  risk_score      integer NOT NULL DEFAULT 0 CHECK (risk_score BETWEEN 0 AND 100),
  risk_level      text NOT NULL DEFAULT 'LOW' CHECK (risk_level IN ('LOW', 'MEDIUM', 'HIGH', 'CRITICAL')),
  risk_factors    jsonb NOT NULL DEFAULT '[]',
  stats_at        timestamptz,
  UNIQUE (tenant_id, host_id, protocol, name)
);

-- id is the first 53 bits of sd_hash (exact in JavaScript), so parallel walkers agree on it without a round trip.
CREATE TABLE security_descriptor (
  tenant_id           uuid NOT NULL REFERENCES tenant(id),
  id                  bigint NOT NULL,
  sd_hash             bytea NOT NULL CHECK (length(sd_hash) = 32),
  host_id             text NOT NULL,
  kind                text NOT NULL DEFAULT 'posix' CHECK (kind IN ('posix', 'ntfs')),
  owner_uid           bigint,
  owner_gid           bigint,
  owner_name          text,
  group_name          text,
  raw                 bytea NOT NULL,
  acl                 bytea NOT NULL,
  default_acl         bytea,
  entries             jsonb NOT NULL,
  default_entries     jsonb,
  summary             text NOT NULL,
  extended            boolean NOT NULL,
  grants_world_access boolean NOT NULL,
  created_at          timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, id),
  UNIQUE (tenant_id, sd_hash)
);
CREATE INDEX security_descriptor_world ON security_descriptor (tenant_id) WHERE grants_world_access;

-- The live index of a volume: which scan holds it, kept current by delta sync.
CREATE TABLE index_volume (
  tenant_id       uuid NOT NULL REFERENCES tenant(id),
  host_id         text NOT NULL,
  volume          text NOT NULL,
  current_scan_id bigint REFERENCES scan(id) ON DELETE SET NULL,
  building_scan_id bigint REFERENCES scan(id) ON DELETE SET NULL,
  root_file_ref   bigint,
  fs_dev          text,
  bootstrapped_at timestamptz,
  changes_applied bigint NOT NULL DEFAULT 0,
  last_change_at  timestamptz,
  PRIMARY KEY (tenant_id, host_id, volume)
);

-- A walk partition: its remaining work items (the checkpoint), committed with each batch.
CREATE TABLE index_partition (
  tenant_id  uuid NOT NULL REFERENCES tenant(id),
  scan_id    bigint NOT NULL REFERENCES scan(id) ON DELETE CASCADE,
  key        text NOT NULL,
  parent_key text,
  status     text NOT NULL DEFAULT 'PENDING' CHECK (status IN ('PENDING', 'DONE')),
  work       jsonb NOT NULL,
  batches    integer NOT NULL DEFAULT 0,
  entries    bigint NOT NULL DEFAULT 0,
  files      bigint NOT NULL DEFAULT 0,
  dirs       bigint NOT NULL DEFAULT 0,
  bytes      bigint NOT NULL DEFAULT 0,
  issues     integer NOT NULL DEFAULT 0,
  children   text[] NOT NULL DEFAULT '{}',
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, scan_id, key)
);

-- Directories that could not be listed and entries that could not be read.
CREATE TABLE index_issue (
  tenant_id  uuid NOT NULL REFERENCES tenant(id),
  scan_id    bigint NOT NULL REFERENCES scan(id) ON DELETE CASCADE,
  path       text NOT NULL,
  code       text NOT NULL,
  message    text NOT NULL,
  file_ref   bigint,
  at         timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, scan_id, path, code)
);

-- Totals per directory: direct_* (its own entries) are summed by the walk with each batch;
-- the subtree totals (everything below it) are rolled up from them when the walk ends
-- and kept current by delta sync. Browse and share stats read the subtree totals.
CREATE TABLE index_dir_stats (
  tenant_id   uuid NOT NULL REFERENCES tenant(id),
  scan_id     bigint NOT NULL REFERENCES scan(id) ON DELETE CASCADE,
  dir_ref     bigint NOT NULL,
  direct_files bigint NOT NULL DEFAULT 0,
  direct_dirs  bigint NOT NULL DEFAULT 0,
  direct_bytes bigint NOT NULL DEFAULT 0,
  direct_world_files bigint NOT NULL DEFAULT 0,
  files       bigint NOT NULL DEFAULT 0,
  dirs        bigint NOT NULL DEFAULT 0,
  bytes       bigint NOT NULL DEFAULT 0,
  world_files bigint NOT NULL DEFAULT 0,
  PRIMARY KEY (tenant_id, scan_id, dir_ref)
);

-- The host's users and groups at indexing time (ids are host-local).
CREATE TABLE index_principal (
  tenant_id uuid NOT NULL REFERENCES tenant(id),
  host_id   text NOT NULL,
  kind      text NOT NULL CHECK (kind IN ('user', 'group')),
  id        bigint NOT NULL,
  name      text NOT NULL,
  gids      bigint[] NOT NULL DEFAULT '{}',
  PRIMARY KEY (tenant_id, host_id, kind, id)
);
CREATE INDEX index_principal_name ON index_principal (tenant_id, name);

-- Directories by inode and by parent inode (tree navigation, ancestors, subtrees, delta
-- sync): partial, so only directory rows pay for them. Listing a directory uses the
-- existing unique (scan_id, dir_id, name). Audits and remediation find entries by
-- descriptor. Agent CSV rows (no descriptor, flags NULL) pay for none of these.
CREATE INDEX file_scan_dir_ref ON file (scan_id, file_ref) INCLUDE (parent_ref) WHERE flags & 1 <> 0;
CREATE INDEX file_scan_dir_parent ON file (scan_id, parent_ref) WHERE flags & 1 <> 0;
CREATE INDEX file_scan_security ON file (scan_id, security_id, id) WHERE security_id IS NOT NULL;

DO $$
DECLARE t text;
BEGIN
  FOREACH t IN ARRAY ARRAY['share', 'security_descriptor', 'index_volume', 'index_partition', 'index_issue',
                           'index_dir_stats', 'index_principal'] LOOP
    EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
    EXECUTE format('ALTER TABLE %I FORCE ROW LEVEL SECURITY', t);
    EXECUTE format('CREATE POLICY tenant_isolation ON %I USING (tenant_id = current_tenant())'
                   ' WITH CHECK (tenant_id = current_tenant())', t);
  END LOOP;
END
$$;

GRANT SELECT, INSERT, UPDATE, DELETE ON share, security_descriptor, index_volume, index_partition, index_issue,
  index_dir_stats, index_principal TO strata_indexer;
GRANT DELETE ON file TO strata_indexer;
GRANT SELECT ON share, security_descriptor, index_volume, index_partition, index_issue, index_dir_stats, index_principal
  TO strata_api, strata_report, strata_remediator;
GRANT INSERT ON security_descriptor TO strata_remediator;
