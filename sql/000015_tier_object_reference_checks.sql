-- tier_object's references checked once per statement instead of once per row, as
-- 000011 did for file. A plan inserts thousands of PLANNED rows per statement, and
-- each of the three foreign keys (tenant, dir, plan) ran its own lookup-and-lock query
-- per row. One set-based check per statement keeps the same guarantees:
--  * every inserted row's tenant exists;
--  * every inserted row's dir is a dir of the same tenant (stricter than before);
--  * every inserted row's plan, where it has one, is a plan of the same tenant, locked
--    FOR KEY SHARE until commit (as a foreign key check locks it);
--  * updates that set tenant_id, dir_id or plan_id are checked row by row;
--  * deleting a dir or plan, or changing its key, while tier objects reference it is
--    refused, and so is deleting a referenced tenant.
-- The checks run as the caller, so row-level security applies to them too. Tenants
-- are not locked by the insert check: no application role may delete one.

ALTER TABLE tier_object
  DROP CONSTRAINT tier_object_tenant_id_fkey,
  DROP CONSTRAINT tier_object_dir_id_fkey,
  DROP CONSTRAINT tier_object_plan_id_fkey;

CREATE FUNCTION tier_object_references_missing(rows_tenant uuid[], rows_dir bigint[], rows_plan uuid[]) RETURNS text
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
  SELECT r.tenant_id, r.dir_id INTO missing FROM (SELECT DISTINCT * FROM unnest(rows_tenant, rows_dir) AS u(tenant_id, dir_id)) r
   WHERE NOT EXISTS (SELECT 1 FROM dir d WHERE d.id = r.dir_id AND d.tenant_id = r.tenant_id) LIMIT 1;
  IF FOUND THEN
    RETURN format('dir %s of tenant %s does not exist', missing.dir_id, missing.tenant_id);
  END IF;
  SELECT count(*) INTO wanted FROM (SELECT DISTINCT * FROM unnest(rows_tenant, rows_plan) AS u(tenant_id, plan_id) WHERE plan_id IS NOT NULL) p;
  SELECT count(*) INTO locked FROM (
    SELECT 1 FROM tiering_plan p WHERE (p.tenant_id, p.id) IN (
      SELECT DISTINCT * FROM unnest(rows_tenant, rows_plan) AS u(tenant_id, plan_id) WHERE plan_id IS NOT NULL) FOR KEY SHARE) l;
  IF locked < wanted THEN
    SELECT r.tenant_id, r.plan_id INTO missing FROM unnest(rows_tenant, rows_plan) AS r(tenant_id, plan_id)
     WHERE r.plan_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM tiering_plan p WHERE p.id = r.plan_id AND p.tenant_id = r.tenant_id) LIMIT 1;
    RETURN format('tiering plan %s of tenant %s does not exist', missing.plan_id, missing.tenant_id);
  END IF;
  RETURN NULL;
END
$$;

CREATE FUNCTION tier_object_references_inserted() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
  problem text;
BEGIN
  SELECT tier_object_references_missing(array_agg(tenant_id), array_agg(dir_id), array_agg(plan_id)) INTO problem FROM new_object;
  IF problem IS NOT NULL THEN
    RAISE EXCEPTION 'insert into tier_object: %', problem
      USING ERRCODE = 'foreign_key_violation', TABLE = 'tier_object', CONSTRAINT = 'tier_object_refs';
  END IF;
  RETURN NULL;
END
$$;

CREATE TRIGGER tier_object_references_inserted AFTER INSERT ON tier_object
  REFERENCING NEW TABLE AS new_object FOR EACH STATEMENT EXECUTE FUNCTION tier_object_references_inserted();

CREATE FUNCTION tier_object_references_updated() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
  problem text := tier_object_references_missing(ARRAY[NEW.tenant_id], ARRAY[NEW.dir_id], ARRAY[NEW.plan_id]);
BEGIN
  IF problem IS NOT NULL THEN
    RAISE EXCEPTION 'update of tier_object %: %', NEW.id, problem
      USING ERRCODE = 'foreign_key_violation', TABLE = 'tier_object', CONSTRAINT = 'tier_object_refs';
  END IF;
  RETURN NULL;
END
$$;

CREATE TRIGGER tier_object_references_updated AFTER UPDATE OF tenant_id, dir_id, plan_id ON tier_object
  FOR EACH ROW WHEN (OLD.tenant_id IS DISTINCT FROM NEW.tenant_id OR OLD.dir_id IS DISTINCT FROM NEW.dir_id
                     OR OLD.plan_id IS DISTINCT FROM NEW.plan_id)
  EXECUTE FUNCTION tier_object_references_updated();

-- A tenant, dir or plan that tier objects still reference keeps its key and stays.
-- One branch per table: each compares keys of its own type.
CREATE FUNCTION tier_object_parent_referenced() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
  referenced boolean;
BEGIN
  IF TG_TABLE_NAME = 'tenant' THEN
    referenced := EXISTS (SELECT 1 FROM tier_object o WHERE o.tenant_id = OLD.id);
  ELSIF TG_TABLE_NAME = 'dir' THEN
    referenced := EXISTS (SELECT 1 FROM tier_object o WHERE o.tenant_id = OLD.tenant_id AND o.dir_id = OLD.id);
  ELSE
    referenced := EXISTS (SELECT 1 FROM tier_object o WHERE o.tenant_id = OLD.tenant_id AND o.plan_id = OLD.id);
  END IF;
  IF referenced THEN
    RAISE EXCEPTION '% % is still referenced from tier_object', TG_TABLE_NAME, OLD.id
      USING ERRCODE = 'foreign_key_violation', TABLE = TG_TABLE_NAME, CONSTRAINT = 'tier_object_refs';
  END IF;
  RETURN NULL;
END
$$;

CREATE TRIGGER tenant_delete_tier_objects_referenced AFTER DELETE ON tenant
  FOR EACH ROW EXECUTE FUNCTION tier_object_parent_referenced();
CREATE TRIGGER tenant_key_tier_objects_referenced AFTER UPDATE OF id ON tenant
  FOR EACH ROW WHEN (OLD.id IS DISTINCT FROM NEW.id) EXECUTE FUNCTION tier_object_parent_referenced();
CREATE TRIGGER dir_delete_tier_objects_referenced AFTER DELETE ON dir
  FOR EACH ROW EXECUTE FUNCTION tier_object_parent_referenced();
CREATE TRIGGER dir_key_tier_objects_referenced AFTER UPDATE OF tenant_id, id ON dir
  FOR EACH ROW WHEN (OLD.tenant_id IS DISTINCT FROM NEW.tenant_id OR OLD.id IS DISTINCT FROM NEW.id)
  EXECUTE FUNCTION tier_object_parent_referenced();
CREATE TRIGGER tiering_plan_delete_tier_objects_referenced AFTER DELETE ON tiering_plan
  FOR EACH ROW EXECUTE FUNCTION tier_object_parent_referenced();
CREATE TRIGGER tiering_plan_key_tier_objects_referenced AFTER UPDATE OF tenant_id, id ON tiering_plan
  FOR EACH ROW WHEN (OLD.tenant_id IS DISTINCT FROM NEW.tenant_id OR OLD.id IS DISTINCT FROM NEW.id)
  EXECUTE FUNCTION tier_object_parent_referenced();
