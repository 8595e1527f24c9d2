import { sql, type Kysely } from 'kysely'

// The admin console's view of the webhook inbox reads receipts of every tenant, and the API's role
// has no system mode: two narrow definer functions, in the form of the replay function (fixed
// search_path, system mode for their own duration, owned by the definer role). Each answers only
// when the app signed the request ('admin-receipts' for the listing, 'admin-receipt:<id>' for one)
// after checking the admin session; they return no payload.
const COLUMNS = sql.raw(`id uuid, tenant_id uuid, shop_domain text, topic text, webhook_id text,
  status text, attempts integer, last_error text, received_at timestamptz, processed_at timestamptz`)
const SELECT = sql.raw(`SELECT r.id, r.tenant_id, t.shop_domain, r.topic, r.webhook_id, r.status,
  r.attempts, r.last_error, r.received_at, r.processed_at
  FROM public.webhook_receipts r JOIN public.tenants t ON t.id = r.tenant_id`)

export async function up(db: Kysely<any>): Promise<void> {
  await sql`CREATE FUNCTION app_admin_list_receipts(p_status text, p_limit integer,
      p_before timestamptz, p_mac text)
    RETURNS TABLE (${COLUMNS}) LANGUAGE plpgsql STABLE SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp SET app.system = 'on' AS $$
    BEGIN
      IF NOT app_private.mac_ok('admin-receipts', p_mac) THEN RETURN; END IF;
      RETURN QUERY ${SELECT}
        WHERE r.status = p_status AND (p_before IS NULL OR r.received_at < p_before)
        ORDER BY r.received_at DESC, r.id
        LIMIT least(greatest(p_limit, 0), 100);
    END $$`.execute(db)
  await sql`CREATE FUNCTION app_admin_receipt(p_id uuid, p_mac text)
    RETURNS TABLE (${COLUMNS}) LANGUAGE plpgsql STABLE SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp SET app.system = 'on' AS $$
    BEGIN
      IF NOT app_private.mac_ok('admin-receipt:' || p_id::text, p_mac) THEN RETURN; END IF;
      RETURN QUERY ${SELECT} WHERE r.id = p_id;
    END $$`.execute(db)
  for (const fn of [
    'app_admin_list_receipts(text, integer, timestamptz, text)',
    'app_admin_receipt(uuid, text)',
  ])
    await sql`ALTER FUNCTION ${sql.raw(fn)} OWNER TO xeno_definer`.execute(db)
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`DROP FUNCTION app_admin_receipt(uuid, text)`.execute(db)
  await sql`DROP FUNCTION app_admin_list_receipts(text, integer, timestamptz, text)`.execute(db)
}
