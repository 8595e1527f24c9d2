import { sql, type Kysely } from 'kysely'

// A shop's IANA zone comes from Shopify and Postgres' tz database may not know it (a zone newer
// than the server's tzdata, or a bad value): every `AT TIME ZONE` on it would fail. Analytics
// ask this first and fall back to UTC. pg_timezone_names reads the tz directory on every query
// (milliseconds); trying the conversion costs one subtransaction (microseconds).
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    CREATE FUNCTION app_known_time_zone(zone text) RETURNS boolean
    LANGUAGE plpgsql STABLE PARALLEL SAFE AS $$
    BEGIN
      PERFORM now() AT TIME ZONE zone;
      RETURN true;
    EXCEPTION WHEN invalid_parameter_value THEN
      RETURN false;
    END $$`.execute(db)
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`DROP FUNCTION app_known_time_zone(text)`.execute(db)
}
