-- What each function role may do. Roles are created by the migrator's bootstrap;
-- none owns a table, and every table they touch has forced row-level security.

GRANT USAGE ON SCHEMA public TO strata_api, strata_ingest, strata_planner, strata_actor,
  strata_sanitizer, strata_indexer, strata_remediator, strata_report;

-- api: onboarding, tokens, reads for status pages.
GRANT SELECT, INSERT, UPDATE ON tenant, app_user, api_token TO strata_api;
GRANT SELECT ON scan, ingest_chunk TO strata_api;

-- every role may append to and read its tenant's audit trail.
GRANT SELECT, INSERT ON audit_log TO strata_api, strata_ingest, strata_planner, strata_actor,
  strata_sanitizer, strata_indexer, strata_remediator, strata_report;
GRANT EXECUTE ON FUNCTION audit_verify() TO strata_api, strata_report;

-- ingest: scans, index normalisation, access-time updates.
GRANT SELECT ON tenant TO strata_ingest, strata_planner, strata_actor, strata_sanitizer,
  strata_indexer, strata_remediator, strata_report;
GRANT SELECT, INSERT, UPDATE ON scan TO strata_ingest, strata_indexer;
GRANT SELECT, INSERT ON dir TO strata_ingest, strata_indexer;
GRANT SELECT, INSERT, UPDATE ON file TO strata_ingest, strata_indexer;
GRANT SELECT, INSERT ON ingest_chunk TO strata_ingest;
GRANT SELECT, INSERT, DELETE ON staging_file, staging_lucid_audit TO strata_ingest;
GRANT SELECT, INSERT ON lucid_audit_processed TO strata_ingest;

GRANT SELECT ON scan, dir, file TO strata_planner, strata_sanitizer, strata_remediator, strata_report;
