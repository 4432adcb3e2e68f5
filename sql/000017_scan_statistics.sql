-- A finished scan refreshes the statistics of file and dir (ANALYZE), so the first
-- plans over its files (tiering candidates, sanitize, remediation) are planned for its
-- real size and not as one row. ANALYZE needs MAINTAIN, a privilege of PostgreSQL 17;
-- on older servers the refresh is skipped and autovacuum catches up.
DO $$
BEGIN
  IF current_setting('server_version_num')::int >= 170000 THEN
    EXECUTE 'GRANT MAINTAIN ON file, dir TO strata_ingest, strata_indexer';
  END IF;
END
$$;
