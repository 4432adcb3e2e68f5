-- Acting on a tier object rewrites its row (state, hash, outcome) once per file. With
-- `state` in no index and room left on each page, that rewrite is a HOT update: no
-- new entry in any of the table's indexes. The act batch query and the per-share
-- queries filter on state instead of seeking it.
ALTER TABLE tier_object SET (fillfactor = 50);

DROP INDEX tier_object_plan;
CREATE INDEX tier_object_plan ON tier_object (tenant_id, plan_id, id);

DROP INDEX tier_object_state;
CREATE INDEX tier_object_share ON tier_object (tenant_id, share_name, id);
