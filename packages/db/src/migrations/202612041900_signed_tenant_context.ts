import { sql, type Kysely } from 'kysely'

// The runtime role is a wall, not a convention. Before this migration any role that could run SQL
// could `SET app.system = 'on'` or name another tenant in app.tenant_id and read every row. Now:
//
// - A tenant (or admin) context counts only when it carries a MAC made with the tenant-context
//   key. The application holds the key (TENANT_CONTEXT_KEY, or derived from API_PEPPER); in the
//   database it lives in app_private, a schema of the NOLOGIN role xeno_definer that no login role
//   of the application may read. app_current_tenant() and app_admin_mode() are SECURITY DEFINER
//   functions of that role: they read the key, check the MAC and its expiry, and raise on a forged
//   one. The policies keep their `(SELECT fn())` shape, so the check runs once per query (an
//   InitPlan), not once per row.
// - System mode (every tenant's rows) needs app.system = 'on' AND membership in the NOLOGIN role
//   xeno_cross_tenant. Only the worker's DATABASE_SYSTEM_URL role and xeno_definer are members;
//   the API's role is not, and cannot SET ROLE into either.
// - What the API must read before a tenant is known goes through narrow SECURITY DEFINER functions
//   that take a hash or a MAC-vouched value and return one row (or the admin's tenant listing).
// - admin_users, admin_sessions and oauth_states get row-level security too.
//
// Roles are cluster-wide: they are created when missing (needs CREATEROLE) and never dropped here.

const DEFINER_ROLE = 'xeno_definer'
const CROSS_TENANT_ROLE = 'xeno_cross_tenant'

const OLD_TENANT = sql`$$ SELECT NULLIF(current_setting('app.tenant_id', true), '')::uuid $$`
const OLD_SYSTEM = sql`$$ SELECT coalesce(current_setting('app.system', true), '') = 'on' $$`

// Every definer function: fixed search_path (a caller's temp objects are never found first) and
// schema-qualified names throughout.
const DEFINER = sql.raw(`SECURITY DEFINER SET search_path = pg_catalog, pg_temp`)
// Lookups that read across tenants run in system mode for their own duration only.
const DEFINER_SYSTEM = sql.raw(
  `SECURITY DEFINER SET search_path = pg_catalog, pg_temp SET app.system = 'on'`,
)

const FUNCTIONS = [
  'app_private.mac_ok(text, text)',
  'app_tenant_by_shop(text, text)',
  'app_api_key_by_hash(bytea)',
  'app_tenant_session_by_hash(bytea)',
  'app_list_tenants(uuid, integer, text)',
  'app_consume_oauth_state(bytea, text, timestamptz)',
  'app_fleet_sync_checkpoints(text)',
  'app_fleet_webhook_receipts(text)',
  'app_reset_receipt_for_replay(uuid, text)',
  'app_current_tenant()',
  'app_admin_mode()',
  'app_require_system()',
] as const

async function ensureRole(db: Kysely<any>, name: string) {
  const { rows } = await sql`SELECT 1 FROM pg_roles WHERE rolname = ${name}`.execute(db)
  if (rows.length) return
  try {
    await sql`CREATE ROLE ${sql.id(name)} NOLOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE`.execute(
      db,
    )
  } catch (err) {
    // Concurrent migrators of other databases on the same cluster: tolerate the loser.
    if (!/already exists/.test((err as Error).message)) throw err
  }
}

export async function up(db: Kysely<any>): Promise<void> {
  await ensureRole(db, DEFINER_ROLE)
  await ensureRole(db, CROSS_TENANT_ROLE)
  // The definer reads across tenants inside its functions; the migrator must be able to give it
  // objects (ALTER ... OWNER needs membership when not a superuser).
  await sql`GRANT ${sql.id(CROSS_TENANT_ROLE)} TO ${sql.id(DEFINER_ROLE)}`.execute(db)
  await sql`GRANT ${sql.id(DEFINER_ROLE)} TO CURRENT_USER`.execute(db)
  const { rows: dbRows } = await sql<{ name: string }>`SELECT current_database() AS name`.execute(
    db,
  )
  await sql`GRANT CONNECT ON DATABASE ${sql.id(dbRows[0]!.name)} TO ${sql.id(DEFINER_ROLE)}`.execute(
    db,
  )
  await sql`GRANT USAGE ON SCHEMA public TO ${sql.id(DEFINER_ROLE)}`.execute(db)
  await sql`GRANT SELECT, UPDATE ON ALL TABLES IN SCHEMA public TO ${sql.id(DEFINER_ROLE)}`.execute(
    db,
  )

  // The key's home: no USAGE for anyone but its owner.
  await sql`CREATE SCHEMA app_private AUTHORIZATION ${sql.id(DEFINER_ROLE)}`.execute(db)
  await sql`REVOKE ALL ON SCHEMA app_private FROM PUBLIC`.execute(db)
  await sql`CREATE TABLE app_private.tenant_context_key (
    id integer PRIMARY KEY DEFAULT 1 CHECK (id = 1),
    key bytea NOT NULL CHECK (octet_length(key) = 32),
    updated_at timestamptz NOT NULL DEFAULT now()
  )`.execute(db)
  await sql`ALTER TABLE app_private.tenant_context_key OWNER TO ${sql.id(DEFINER_ROLE)}`.execute(db)
  await sql`REVOKE ALL ON app_private.tenant_context_key FROM PUBLIC`.execute(db)

  // signed = '<expiry, unix seconds>.<hex HMAC-SHA256(key, message || ':' || expiry)>'. The
  // comparison is of SHA-256 digests of both sides, so its timing tells at most how much of the
  // expected MAC's digest a guess shares, which says nothing of the MAC itself. Expiry is checked against the transaction's start (now()), so a long
  // transaction begun in time keeps its context.
  // Not itself a definer, and no SET clause: only the definer functions below can reach
  // app_private to call it, and they run as its owner with a fixed search_path already. plpgsql
  // keeps its plans across calls (a SQL-language body is planned again on every call).
  await sql`CREATE FUNCTION app_private.mac_ok(message text, signed text) RETURNS boolean
    LANGUAGE plpgsql STABLE AS $$
    DECLARE
      k bytea;
      exp text := pg_catalog.split_part(signed, '.', 1);
    BEGIN
      IF message IS NULL OR signed IS NULL OR exp !~ '^[0-9]{1,12}$'
        OR exp::bigint < pg_catalog.date_part('epoch', pg_catalog.now())::bigint THEN
        RETURN false;
      END IF;
      SELECT t.key INTO k FROM app_private.tenant_context_key t WHERE t.id = 1;
      RETURN k IS NOT NULL
        AND pg_catalog.sha256(pg_catalog.convert_to(pg_catalog.split_part(signed, '.', 2), 'UTF8'))
          = pg_catalog.sha256(pg_catalog.convert_to(pg_catalog.encode(public.hmac(
              pg_catalog.convert_to(message || ':' || exp, 'UTF8'), k, 'sha256'), 'hex'), 'UTF8'));
    END $$`.execute(db)
  await sql`REVOKE ALL ON FUNCTION app_private.mac_ok(text, text) FROM PUBLIC`.execute(db)

  // The tenant of this transaction: app.tenant_id, trusted only with a valid app.tenant_mac.
  // Unset → NULL (no tenant: RLS shows nothing); set but unsigned, forged or expired → an error,
  // so a misconfigured key or clock fails loudly instead of showing an empty shop.
  await sql`CREATE OR REPLACE FUNCTION app_current_tenant() RETURNS uuid
    LANGUAGE plpgsql STABLE ${DEFINER} AS $$
    DECLARE t text := NULLIF(current_setting('app.tenant_id', true), '');
    BEGIN
      IF t IS NULL THEN RETURN NULL; END IF;
      IF app_private.mac_ok('tenant:' || t, current_setting('app.tenant_mac', true)) THEN
        RETURN t::uuid;
      END IF;
      RAISE EXCEPTION 'app.tenant_id is not signed with the tenant-context key (or its signature expired)'
        USING ERRCODE = 'insufficient_privilege';
    END $$`.execute(db)

  // Admin mode (admin_users, admin_sessions): app.admin_mac signs 'admin'.
  await sql`CREATE FUNCTION app_admin_mode() RETURNS boolean
    LANGUAGE plpgsql STABLE ${DEFINER} AS $$
    DECLARE m text := NULLIF(current_setting('app.admin_mac', true), '');
    BEGIN
      IF m IS NULL THEN RETURN false; END IF;
      IF app_private.mac_ok('admin', m) THEN RETURN true; END IF;
      RAISE EXCEPTION 'app.admin_mac is not signed with the tenant-context key (or its signature expired)'
        USING ERRCODE = 'insufficient_privilege';
    END $$`.execute(db)

  // System mode: the setting alone is no longer enough.
  await sql`CREATE OR REPLACE FUNCTION app_is_system() RETURNS boolean LANGUAGE sql STABLE AS
    $$ SELECT coalesce(current_setting('app.system', true), '') = 'on'
         AND pg_has_role(current_user, ${sql.lit(CROSS_TENANT_ROLE)}, 'MEMBER') $$`.execute(db)
  // withSystem calls this with its set_config: a role that may not act across tenants is told so
  // instead of silently seeing nothing.
  await sql`CREATE FUNCTION app_require_system() RETURNS boolean LANGUAGE plpgsql STABLE AS $$
    BEGIN
      IF NOT pg_has_role(current_user, ${sql.lit(CROSS_TENANT_ROLE)}, 'MEMBER') THEN
        RAISE EXCEPTION 'role % may not act across tenants (it is not a member of %)',
          current_user, ${sql.lit(CROSS_TENANT_ROLE)} USING ERRCODE = 'insufficient_privilege';
      END IF;
      RETURN true;
    END $$`.execute(db)

  // ---- narrow cross-tenant reads for the API ----

  // A shop domain is public, so the app vouches for the lookup with a MAC of 'shop:<domain>'.
  await sql`CREATE FUNCTION app_tenant_by_shop(p_shop text, p_mac text)
    RETURNS TABLE (id uuid, status text) LANGUAGE plpgsql STABLE ${DEFINER_SYSTEM} AS $$
    BEGIN
      IF NOT app_private.mac_ok('shop:' || p_shop, p_mac) THEN RETURN; END IF;
      RETURN QUERY SELECT t.id, t.status FROM public.tenants t WHERE t.shop_domain = p_shop;
    END $$`.execute(db)

  // Hashes of 256-bit secrets: a guessed hash finds nothing, so no MAC is needed.
  await sql`CREATE FUNCTION app_api_key_by_hash(p_hash bytea)
    RETURNS TABLE (id uuid, tenant_id uuid, last_used_at timestamptz, revoked_at timestamptz)
    LANGUAGE sql STABLE ${DEFINER_SYSTEM} AS $$
      SELECT k.id, k.tenant_id, k.last_used_at, k.revoked_at FROM public.api_keys k
      WHERE k.key_hash = p_hash LIMIT 1 $$`.execute(db)
  await sql`CREATE FUNCTION app_tenant_session_by_hash(p_hash bytea)
    RETURNS TABLE (id uuid, tenant_id uuid, user_id uuid, role text, last_seen_at timestamptz,
      expires_at timestamptz, revoked_at timestamptz)
    LANGUAGE sql STABLE ${DEFINER_SYSTEM} AS $$
      SELECT s.id, s.tenant_id, s.user_id, u.role, s.last_seen_at, s.expires_at, s.revoked_at
      FROM public.tenant_sessions s
      JOIN public.tenant_users u ON u.tenant_id = s.tenant_id AND u.id = s.user_id
      WHERE s.token_hash = p_hash LIMIT 1 $$`.execute(db)

  // The admin's tenant listing (keyset by id); the app signs 'tenants' after checking the admin.
  await sql`CREATE FUNCTION app_list_tenants(p_after uuid, p_limit integer, p_mac text)
    RETURNS TABLE (id uuid, shop_domain text, status text, shop_name text, iana_timezone text,
      currency text, plan text, installed_at timestamptz, created_at timestamptz)
    LANGUAGE plpgsql STABLE ${DEFINER_SYSTEM} AS $$
    BEGIN
      IF NOT app_private.mac_ok('tenants', p_mac) THEN
        RAISE EXCEPTION 'tenant listing is not signed' USING ERRCODE = 'insufficient_privilege';
      END IF;
      RETURN QUERY SELECT t.id, t.shop_domain, t.status, t.shop_name, t.iana_timezone, t.currency,
          t.plan, t.installed_at, t.created_at
        FROM public.tenants t WHERE p_after IS NULL OR t.id > p_after
        ORDER BY t.id LIMIT least(greatest(p_limit, 0), 1000);
    END $$`.execute(db)

  // OAuth states: the runtime role may insert them and sweep expired ones, but a live state is
  // only ever used once, here, by its (unguessable) hash.
  await sql`CREATE FUNCTION app_consume_oauth_state(p_hash bytea, p_shop text, p_now timestamptz)
    RETURNS boolean LANGUAGE sql VOLATILE ${DEFINER_SYSTEM} AS $$
      WITH used AS (
        UPDATE public.oauth_states SET used_at = p_now
        WHERE state_hash = p_hash AND shop_domain = p_shop AND used_at IS NULL
          AND expires_at > p_now
        RETURNING 1)
      SELECT EXISTS (SELECT 1 FROM used) $$`.execute(db)

  // /metrics watches the whole fleet: ids and states only, signed 'metrics' by the app.
  await sql`CREATE FUNCTION app_fleet_sync_checkpoints(p_mac text)
    RETURNS TABLE (tenant_id uuid, resource text, state text, cursor_updated_at timestamptz,
      last_success_at timestamptz)
    LANGUAGE plpgsql STABLE ${DEFINER_SYSTEM} AS $$
    BEGIN
      IF NOT app_private.mac_ok('metrics', p_mac) THEN RETURN; END IF;
      RETURN QUERY SELECT c.tenant_id, c.resource, c.state, c.cursor_updated_at, c.last_success_at
        FROM public.sync_checkpoints c ORDER BY c.tenant_id, c.resource;
    END $$`.execute(db)
  await sql`CREATE FUNCTION app_fleet_webhook_receipts(p_mac text)
    RETURNS TABLE (status text, count bigint)
    LANGUAGE plpgsql STABLE ${DEFINER_SYSTEM} AS $$
    BEGIN
      IF NOT app_private.mac_ok('metrics', p_mac) THEN RETURN; END IF;
      RETURN QUERY SELECT r.status, count(*) FROM public.webhook_receipts r
        GROUP BY r.status ORDER BY r.status;
    END $$`.execute(db)

  // Admin replay of a receipt by id (any tenant): the app signs 'replay:<id>' after checking the
  // admin.
  await sql`CREATE FUNCTION app_reset_receipt_for_replay(p_id uuid, p_mac text)
    RETURNS TABLE (tenant_id uuid, id uuid) LANGUAGE plpgsql VOLATILE ${DEFINER_SYSTEM} AS $$
    BEGIN
      IF NOT app_private.mac_ok('replay:' || p_id::text, p_mac) THEN RETURN; END IF;
      RETURN QUERY UPDATE public.webhook_receipts r
        SET status = 'received', last_error = NULL, enqueued_at = NULL
        WHERE r.id = p_id AND r.status IN ('failed', 'received')
        RETURNING r.tenant_id, r.id;
    END $$`.execute(db)

  for (const fn of FUNCTIONS)
    await sql`ALTER FUNCTION ${sql.raw(fn)} OWNER TO ${sql.id(DEFINER_ROLE)}`.execute(db)

  // ---- admin tables and OAuth states ----
  const admin = sql`((SELECT app_admin_mode()) OR (SELECT app_is_system()))`
  for (const table of ['admin_users', 'admin_sessions']) {
    await sql`ALTER TABLE ${sql.table(table)} ENABLE ROW LEVEL SECURITY`.execute(db)
    await sql`ALTER TABLE ${sql.table(table)} FORCE ROW LEVEL SECURITY`.execute(db)
    await sql`CREATE POLICY admin_only ON ${sql.table(table)} USING ${admin} WITH CHECK ${admin}`.execute(
      db,
    )
  }
  await sql`ALTER TABLE oauth_states ENABLE ROW LEVEL SECURITY`.execute(db)
  await sql`ALTER TABLE oauth_states FORCE ROW LEVEL SECURITY`.execute(db)
  await sql`CREATE POLICY oauth_states_insert ON oauth_states FOR INSERT WITH CHECK (true)`.execute(
    db,
  )
  // Expired states are dead: anyone may see (to delete) them; live ones only the system.
  const dead = sql`(expires_at < now() OR (SELECT app_is_system()))`
  await sql`CREATE POLICY oauth_states_read ON oauth_states FOR SELECT USING ${dead}`.execute(db)
  await sql`CREATE POLICY oauth_states_delete ON oauth_states FOR DELETE USING ${dead}`.execute(db)
  await sql`CREATE POLICY oauth_states_update ON oauth_states FOR UPDATE
    USING ((SELECT app_is_system())) WITH CHECK ((SELECT app_is_system()))`.execute(db)
}

export async function down(db: Kysely<any>): Promise<void> {
  for (const p of [
    'oauth_states_insert',
    'oauth_states_read',
    'oauth_states_delete',
    'oauth_states_update',
  ])
    await sql`DROP POLICY ${sql.id(p)} ON oauth_states`.execute(db)
  for (const table of ['admin_users', 'admin_sessions', 'oauth_states']) {
    if (table !== 'oauth_states')
      await sql`DROP POLICY admin_only ON ${sql.table(table)}`.execute(db)
    await sql`ALTER TABLE ${sql.table(table)} NO FORCE ROW LEVEL SECURITY`.execute(db)
    await sql`ALTER TABLE ${sql.table(table)} DISABLE ROW LEVEL SECURITY`.execute(db)
  }
  for (const fn of FUNCTIONS.slice(0, -3).filter((f) => !f.startsWith('app_private.')))
    await sql`DROP FUNCTION ${sql.raw(fn)}`.execute(db)
  await sql`DROP FUNCTION app_admin_mode()`.execute(db)
  await sql`DROP FUNCTION app_require_system()`.execute(db)
  await sql`CREATE OR REPLACE FUNCTION app_current_tenant() RETURNS uuid LANGUAGE sql STABLE
    SECURITY INVOKER AS ${OLD_TENANT}`.execute(db)
  await sql`ALTER FUNCTION app_current_tenant() RESET ALL`.execute(db)
  await sql`ALTER FUNCTION app_current_tenant() OWNER TO CURRENT_USER`.execute(db)
  await sql`CREATE OR REPLACE FUNCTION app_is_system() RETURNS boolean LANGUAGE sql STABLE AS ${OLD_SYSTEM}`.execute(
    db,
  )
  await sql`DROP SCHEMA app_private CASCADE`.execute(db)
  await sql`REVOKE ALL ON ALL TABLES IN SCHEMA public FROM ${sql.id(DEFINER_ROLE)}`.execute(db)
  await sql`REVOKE ALL ON SCHEMA public FROM ${sql.id(DEFINER_ROLE)}`.execute(db)
  const { rows } = await sql<{ name: string }>`SELECT current_database() AS name`.execute(db)
  await sql`REVOKE CONNECT ON DATABASE ${sql.id(rows[0]!.name)} FROM ${sql.id(DEFINER_ROLE)}`.execute(
    db,
  )
}
