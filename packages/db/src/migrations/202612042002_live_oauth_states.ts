import { sql, type Kysely } from 'kysely'

// The install caps live OAuth states, but the runtime role may only see expired ones (row-level
// security): this counts the live ones, up to the cap, and returns nothing else. Same form as the
// other narrow definer functions: fixed search_path, system mode for its own duration only,
// owned by the definer role.
export async function up(db: Kysely<any>): Promise<void> {
  await sql`CREATE FUNCTION app_live_oauth_states(p_cap integer) RETURNS integer
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp SET app.system = 'on'
    AS $$ SELECT count(*)::integer FROM (
      SELECT 1 FROM public.oauth_states WHERE expires_at > now()
      LIMIT least(greatest(p_cap, 0), 100000)) s $$`.execute(db)
  await sql`ALTER FUNCTION app_live_oauth_states(integer) OWNER TO xeno_definer`.execute(db)
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`DROP FUNCTION app_live_oauth_states(integer)`.execute(db)
}
