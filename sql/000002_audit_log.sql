-- Append-only, per-tenant hash-chained audit trail. The database itself refuses
-- UPDATE, DELETE and TRUNCATE, and computes the chain so callers cannot forge it.

CREATE TABLE audit_log (
  tenant_id  uuid NOT NULL REFERENCES tenant(id),
  seq        bigint NOT NULL,
  at         timestamptz NOT NULL DEFAULT clock_timestamp(),
  actor      text NOT NULL CHECK (length(actor) BETWEEN 1 AND 300),
  action     text NOT NULL CHECK (length(action) BETWEEN 1 AND 100),
  target     text NOT NULL DEFAULT '',
  details    jsonb NOT NULL DEFAULT '{}'::jsonb,
  event_key  text,
  prev_hash  bytea NOT NULL,
  hash       bytea NOT NULL,
  PRIMARY KEY (tenant_id, seq),
  UNIQUE (tenant_id, event_key)
);
CREATE INDEX audit_log_tenant_at ON audit_log (tenant_id, at DESC);
CREATE INDEX audit_log_tenant_action ON audit_log (tenant_id, action, at DESC);

ALTER TABLE audit_log ENABLE ROW LEVEL SECURITY;
ALTER TABLE audit_log FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON audit_log
  USING (tenant_id = current_tenant()) WITH CHECK (tenant_id = current_tenant());

CREATE FUNCTION audit_entry_hash(p_prev bytea, p_row audit_log) RETURNS bytea
LANGUAGE sql IMMUTABLE AS $$
  SELECT sha256(p_prev || convert_to(concat_ws(E'\x1f',
    p_row.tenant_id::text, p_row.seq::text,
    floor(extract(epoch FROM p_row.at) * 1000000)::bigint::text,
    p_row.actor, p_row.action, p_row.target, p_row.details::text,
    coalesce(p_row.event_key, '')), 'UTF8'))
$$;

CREATE FUNCTION audit_log_chain() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
  last_seq  bigint;
  last_hash bytea;
BEGIN
  -- Serialises appends per tenant so two writers cannot fork the chain.
  PERFORM pg_advisory_xact_lock(hashtext('audit_log'), hashtext(NEW.tenant_id::text));
  SELECT seq, hash INTO last_seq, last_hash
    FROM audit_log WHERE tenant_id = NEW.tenant_id ORDER BY seq DESC LIMIT 1;
  NEW.seq := coalesce(last_seq, 0) + 1;
  NEW.at := clock_timestamp();
  NEW.prev_hash := coalesce(last_hash, '\x'::bytea);
  NEW.hash := audit_entry_hash(NEW.prev_hash, NEW);
  RETURN NEW;
END
$$;

CREATE TRIGGER audit_log_chain BEFORE INSERT ON audit_log
  FOR EACH ROW EXECUTE FUNCTION audit_log_chain();

CREATE FUNCTION audit_log_refuse_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'audit_log is append-only: % refused', TG_OP
    USING ERRCODE = 'insufficient_privilege';
END
$$;

CREATE TRIGGER audit_log_no_update BEFORE UPDATE OR DELETE ON audit_log
  FOR EACH ROW EXECUTE FUNCTION audit_log_refuse_change();
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
  FOR EACH STATEMENT EXECUTE FUNCTION audit_log_refuse_change();

-- Walks the current tenant's chain; reports the first entry whose links or hash do not hold.
CREATE FUNCTION audit_verify()
RETURNS TABLE (entries bigint, valid boolean, first_bad_seq bigint, reason text)
LANGUAGE plpgsql STABLE AS $$
DECLARE
  r audit_log;
  expected_prev bytea := '\x'::bytea;
  expected_seq bigint := 1;
  n bigint := 0;
BEGIN
  FOR r IN SELECT * FROM audit_log WHERE tenant_id = current_tenant() ORDER BY seq LOOP
    n := n + 1;
    IF r.seq <> expected_seq THEN
      RETURN QUERY SELECT n, false, r.seq, format('sequence gap: expected %s', expected_seq);
      RETURN;
    END IF;
    IF r.prev_hash <> expected_prev THEN
      RETURN QUERY SELECT n, false, r.seq, 'prev_hash does not match the previous entry';
      RETURN;
    END IF;
    IF r.hash <> audit_entry_hash(r.prev_hash, r) THEN
      RETURN QUERY SELECT n, false, r.seq, 'hash does not match the entry content';
      RETURN;
    END IF;
    expected_prev := r.hash;
    expected_seq := r.seq + 1;
  END LOOP;
  RETURN QUERY SELECT n, true, NULL::bigint, NULL::text;
END
$$;
