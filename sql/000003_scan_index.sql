-- The file index: immutable scans per share, deduplicated directory paths and
-- file rows per scan. Agent CSV ingest and bootstrap indexing both write here.

CREATE TABLE scan (
  id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  tenant_id    uuid NOT NULL REFERENCES tenant(id),
  scan_guid    uuid NOT NULL,
  share_name   text NOT NULL CHECK (length(share_name) BETWEEN 1 AND 255),
  src_type     text NOT NULL CHECK (src_type IN ('NTFS', 'LucidLink', 'SMB', 'POSIX')),
  started_at   timestamptz NOT NULL,
  finished_at  timestamptz,
  status       text NOT NULL DEFAULT 'RUNNING' CHECK (status IN ('RUNNING', 'OK', 'WARN', 'ERROR')),
  status_reason text,
  total_chunks integer,
  host_id      text,
  volume       text,
  created_at   timestamptz NOT NULL DEFAULT now(),
  UNIQUE (tenant_id, scan_guid)
);
CREATE INDEX scan_latest ON scan (tenant_id, share_name, status, started_at DESC);

CREATE TABLE dir (
  id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  tenant_id  uuid NOT NULL REFERENCES tenant(id),
  path_hash  bigint NOT NULL,
  dir_path   text NOT NULL,
  UNIQUE (tenant_id, path_hash, dir_path)
);

CREATE TABLE file (
  id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  tenant_id   uuid NOT NULL REFERENCES tenant(id),
  scan_id     bigint NOT NULL REFERENCES scan(id) ON DELETE CASCADE,
  dir_id      bigint NOT NULL REFERENCES dir(id),
  name        text NOT NULL,
  size_bytes  bigint NOT NULL CHECK (size_bytes >= 0),
  atime_unix  bigint NOT NULL,
  mtime_unix  bigint NOT NULL,
  ctime_unix  bigint NOT NULL,
  file_ref    bigint,
  parent_ref  bigint,
  security_id bigint,
  share_id    bigint,
  mode        integer,
  uid         bigint,
  gid         bigint,
  flags       integer,
  UNIQUE (scan_id, dir_id, name)
);
CREATE INDEX file_tenant_atime ON file (tenant_id, scan_id, atime_unix);

CREATE TABLE ingest_chunk (
  tenant_id   uuid NOT NULL REFERENCES tenant(id),
  scan_id     bigint NOT NULL REFERENCES scan(id) ON DELETE CASCADE,
  seq         integer NOT NULL CHECK (seq >= 0),
  sha256      text NOT NULL,
  row_count   integer NOT NULL,
  byte_count  bigint NOT NULL,
  ingested_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, scan_id, seq)
);

CREATE UNLOGGED TABLE staging_file (
  tenant_id  uuid NOT NULL,
  scan_id    bigint NOT NULL,
  seq        integer NOT NULL,
  dir_path   text NOT NULL,
  name       text NOT NULL,
  size_bytes bigint NOT NULL,
  atime_unix bigint NOT NULL,
  mtime_unix bigint NOT NULL,
  ctime_unix bigint NOT NULL
);
CREATE INDEX staging_file_chunk ON staging_file (tenant_id, scan_id, seq);

CREATE TABLE staging_lucid_audit (
  tenant_id         uuid NOT NULL,
  volume_id         text NOT NULL,
  batch_id          text NOT NULL,
  file_path         text NOT NULL,
  new_last_accessed bigint NOT NULL,
  audit_file        text NOT NULL,
  audit_event_id    text NOT NULL
);
CREATE INDEX staging_lucid_audit_batch ON staging_lucid_audit (tenant_id, volume_id, batch_id);

CREATE TABLE lucid_audit_processed (
  tenant_id      uuid NOT NULL REFERENCES tenant(id),
  volume_id      text NOT NULL,
  audit_event_id text NOT NULL,
  processed_at   timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, volume_id, audit_event_id)
);

DO $$
DECLARE t text;
BEGIN
  FOREACH t IN ARRAY ARRAY['scan', 'dir', 'file', 'ingest_chunk', 'staging_file',
                           'staging_lucid_audit', 'lucid_audit_processed'] LOOP
    EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
    EXECUTE format('ALTER TABLE %I FORCE ROW LEVEL SECURITY', t);
    EXECUTE format('CREATE POLICY tenant_isolation ON %I USING (tenant_id = current_tenant())'
                   ' WITH CHECK (tenant_id = current_tenant())', t);
  END LOOP;
END
$$;
