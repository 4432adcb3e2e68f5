-- Tenancy, users, tokens and the per-tenant row-level security helper.
-- Runs as strata_owner (the migrator does SET ROLE); function roles never own tables.

CREATE FUNCTION current_tenant() RETURNS uuid
LANGUAGE sql STABLE AS $$
  SELECT nullif(current_setting('app.tenant_id', true), '')::uuid
$$;

CREATE TABLE tenant (
  id            uuid PRIMARY KEY,
  code          text NOT NULL UNIQUE CHECK (code ~ '^[a-z][a-z0-9-]{1,62}$'),
  name          text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
  kms_ref       text NOT NULL,
  encrypted_dek text NOT NULL CHECK (encrypted_dek LIKE 'vault:v%'),
  status        text NOT NULL DEFAULT 'ACTIVE' CHECK (status IN ('ACTIVE', 'SUSPENDED')),
  created_at    timestamptz NOT NULL DEFAULT now(),
  updated_at    timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE app_user (
  id         uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  tenant_id  uuid NOT NULL REFERENCES tenant(id),
  name       text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
  role       text NOT NULL CHECK (role IN ('viewer', 'operator', 'approver', 'admin', 'agent')),
  created_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (tenant_id, name)
);

CREATE TABLE api_token (
  id         uuid PRIMARY KEY,
  tenant_id  uuid NOT NULL REFERENCES tenant(id),
  user_id    uuid NOT NULL REFERENCES app_user(id),
  token_hash bytea NOT NULL UNIQUE,
  label      text NOT NULL DEFAULT '',
  created_at timestamptz NOT NULL DEFAULT now(),
  expires_at timestamptz,
  revoked_at timestamptz
);
CREATE INDEX api_token_tenant ON api_token (tenant_id);

-- Install-wide administrators (not tenant data): onboard tenants, issue first tokens.
CREATE TABLE install_admin_token (
  id         uuid PRIMARY KEY,
  name       text NOT NULL,
  token_hash bytea NOT NULL UNIQUE,
  created_at timestamptz NOT NULL DEFAULT now(),
  revoked_at timestamptz
);

ALTER TABLE tenant ENABLE ROW LEVEL SECURITY;
ALTER TABLE tenant FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON tenant USING (id = current_tenant()) WITH CHECK (id = current_tenant());

ALTER TABLE app_user ENABLE ROW LEVEL SECURITY;
ALTER TABLE app_user FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON app_user
  USING (tenant_id = current_tenant()) WITH CHECK (tenant_id = current_tenant());

ALTER TABLE api_token ENABLE ROW LEVEL SECURITY;
ALTER TABLE api_token FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON api_token
  USING (tenant_id = current_tenant()) WITH CHECK (tenant_id = current_tenant());

-- Token lookup happens before the tenant is known: it runs as strata_auth, whose
-- only right is reading these tables, and returns the principal of one live token hash.
CREATE POLICY auth_lookup ON tenant FOR SELECT TO strata_auth USING (true);
CREATE POLICY auth_lookup ON app_user FOR SELECT TO strata_auth USING (true);
CREATE POLICY auth_lookup ON api_token FOR SELECT TO strata_auth USING (true);
GRANT SELECT ON tenant, app_user, api_token, install_admin_token TO strata_auth;

CREATE FUNCTION authenticate_token(p_hash bytea)
RETURNS TABLE (token_id uuid, tenant_id uuid, tenant_code text, user_id uuid, user_name text, role text)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public AS $$
  SELECT t.id, t.tenant_id, tn.code, u.id, u.name, u.role
    FROM api_token t JOIN app_user u ON u.id = t.user_id JOIN tenant tn ON tn.id = t.tenant_id
   WHERE t.token_hash = p_hash AND t.revoked_at IS NULL
     AND (t.expires_at IS NULL OR t.expires_at > now()) AND tn.status = 'ACTIVE'
  UNION ALL
  SELECT a.id, NULL::uuid, NULL::text, NULL::uuid, a.name, 'install-admin'
    FROM install_admin_token a
   WHERE a.token_hash = p_hash AND a.revoked_at IS NULL
$$;

-- Tenant code to id, for admin routes that name a tenant by code.
CREATE FUNCTION tenant_id_by_code(p_code text) RETURNS uuid
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public AS $$
  SELECT id FROM tenant WHERE code = p_code
$$;

ALTER FUNCTION authenticate_token(bytea) OWNER TO strata_auth;
ALTER FUNCTION tenant_id_by_code(text) OWNER TO strata_auth;
