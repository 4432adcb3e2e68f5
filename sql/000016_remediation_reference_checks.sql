-- remediation_item's and remediation_snapshot's references (to their tenant and run)
-- checked once per statement instead of once per row, as 000011 and 000015 did for
-- file and tier_object. A plan inserts every item of a run in one statement and each
-- snapshot slice a thousand rows; measured on a 58,500-item run (2026-12-06), the two
-- per-row foreign keys cost about 1 s of the plan's item insert, and snapshot slices
-- saved concurrently queued on the run row each of their rows key-share locked.
-- One set-based check per statement keeps the same guarantees:
--  * every inserted row's tenant exists;
--  * every inserted row's run is a run of the same tenant (stricter than before),
--    locked FOR KEY SHARE until commit (as a foreign key check locks it);
--  * updates that set tenant_id or run_id are checked row by row;
--  * deleting a run, or changing its key, while items or snapshots reference it is
--    refused, and so is deleting a referenced tenant.
-- The checks run as the caller, so row-level security applies to them too. Tenants
-- are not locked by the insert check: no application role may delete one.

ALTER TABLE remediation_item
  DROP CONSTRAINT remediation_item_tenant_id_fkey,
  DROP CONSTRAINT remediation_item_run_id_fkey;
ALTER TABLE remediation_snapshot
  DROP CONSTRAINT remediation_snapshot_tenant_id_fkey,
  DROP CONSTRAINT remediation_snapshot_run_id_fkey;

CREATE FUNCTION remediation_references_missing(rows_tenant uuid[], rows_run uuid[]) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
  wanted integer;
  locked integer;
  missing record;
BEGIN
  SELECT r.t INTO missing FROM (SELECT DISTINCT t FROM unnest(rows_tenant) t) r WHERE NOT EXISTS (SELECT 1 FROM tenant WHERE id = r.t) LIMIT 1;
  IF FOUND THEN
    RETURN format('tenant %s does not exist', missing.t);
  END IF;
  SELECT count(*) INTO wanted FROM (SELECT DISTINCT * FROM unnest(rows_tenant, rows_run) AS u(tenant_id, run_id)) p;
  SELECT count(*) INTO locked FROM (
    SELECT 1 FROM remediation_run r WHERE (r.tenant_id, r.id) IN (
      SELECT DISTINCT * FROM unnest(rows_tenant, rows_run) AS u(tenant_id, run_id)) FOR KEY SHARE) l;
  IF locked < wanted THEN
    SELECT u.tenant_id, u.run_id INTO missing FROM unnest(rows_tenant, rows_run) AS u(tenant_id, run_id)
     WHERE NOT EXISTS (SELECT 1 FROM remediation_run r WHERE r.id = u.run_id AND r.tenant_id = u.tenant_id) LIMIT 1;
    RETURN format('remediation run %s of tenant %s does not exist', missing.run_id, missing.tenant_id);
  END IF;
  RETURN NULL;
END
$$;

CREATE FUNCTION remediation_references_inserted() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
  problem text;
BEGIN
  -- A statement's rows name one run or a few: only the distinct pairs are checked.
  SELECT remediation_references_missing(array_agg(tenant_id), array_agg(run_id)) INTO problem
    FROM (SELECT DISTINCT tenant_id, run_id FROM new_row) pairs;
  IF problem IS NOT NULL THEN
    RAISE EXCEPTION 'insert into %: %', TG_TABLE_NAME, problem
      USING ERRCODE = 'foreign_key_violation', TABLE = TG_TABLE_NAME, CONSTRAINT = TG_TABLE_NAME || '_refs';
  END IF;
  RETURN NULL;
END
$$;

CREATE FUNCTION remediation_references_updated() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
  problem text := remediation_references_missing(ARRAY[NEW.tenant_id], ARRAY[NEW.run_id]);
BEGIN
  IF problem IS NOT NULL THEN
    RAISE EXCEPTION 'update of % item %: %', TG_TABLE_NAME, NEW.item_no, problem
      USING ERRCODE = 'foreign_key_violation', TABLE = TG_TABLE_NAME, CONSTRAINT = TG_TABLE_NAME || '_refs';
  END IF;
  RETURN NULL;
END
$$;

CREATE TRIGGER remediation_item_references_inserted AFTER INSERT ON remediation_item
  REFERENCING NEW TABLE AS new_row FOR EACH STATEMENT EXECUTE FUNCTION remediation_references_inserted();
CREATE TRIGGER remediation_snapshot_references_inserted AFTER INSERT ON remediation_snapshot
  REFERENCING NEW TABLE AS new_row FOR EACH STATEMENT EXECUTE FUNCTION remediation_references_inserted();
CREATE TRIGGER remediation_item_references_updated AFTER UPDATE OF tenant_id, run_id ON remediation_item
  FOR EACH ROW WHEN (OLD.tenant_id IS DISTINCT FROM NEW.tenant_id OR OLD.run_id IS DISTINCT FROM NEW.run_id)
  EXECUTE FUNCTION remediation_references_updated();
CREATE TRIGGER remediation_snapshot_references_updated AFTER UPDATE OF tenant_id, run_id ON remediation_snapshot
  FOR EACH ROW WHEN (OLD.tenant_id IS DISTINCT FROM NEW.tenant_id OR OLD.run_id IS DISTINCT FROM NEW.run_id)
  EXECUTE FUNCTION remediation_references_updated();

-- A tenant or run that items or snapshots still reference keeps its key and stays.
CREATE FUNCTION remediation_parent_referenced() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
  referenced boolean;
BEGIN
  IF TG_TABLE_NAME = 'tenant' THEN
    referenced := EXISTS (SELECT 1 FROM remediation_item i WHERE i.tenant_id = OLD.id)
               OR EXISTS (SELECT 1 FROM remediation_snapshot s WHERE s.tenant_id = OLD.id);
  ELSE
    referenced := EXISTS (SELECT 1 FROM remediation_item i WHERE i.tenant_id = OLD.tenant_id AND i.run_id = OLD.id)
               OR EXISTS (SELECT 1 FROM remediation_snapshot s WHERE s.tenant_id = OLD.tenant_id AND s.run_id = OLD.id);
  END IF;
  IF referenced THEN
    RAISE EXCEPTION '% % is still referenced from remediation items or snapshots', TG_TABLE_NAME, OLD.id
      USING ERRCODE = 'foreign_key_violation', TABLE = TG_TABLE_NAME, CONSTRAINT = 'remediation_refs';
  END IF;
  RETURN NULL;
END
$$;

CREATE TRIGGER tenant_delete_remediation_referenced AFTER DELETE ON tenant
  FOR EACH ROW EXECUTE FUNCTION remediation_parent_referenced();
CREATE TRIGGER tenant_key_remediation_referenced AFTER UPDATE OF id ON tenant
  FOR EACH ROW WHEN (OLD.id IS DISTINCT FROM NEW.id) EXECUTE FUNCTION remediation_parent_referenced();
CREATE TRIGGER remediation_run_delete_referenced AFTER DELETE ON remediation_run
  FOR EACH ROW EXECUTE FUNCTION remediation_parent_referenced();
CREATE TRIGGER remediation_run_key_referenced AFTER UPDATE OF tenant_id, id ON remediation_run
  FOR EACH ROW WHEN (OLD.tenant_id IS DISTINCT FROM NEW.tenant_id OR OLD.id IS DISTINCT FROM NEW.id)
  EXECUTE FUNCTION remediation_parent_referenced();
