import { sql, type Kysely } from 'kysely'

// 1. Row-level security at scale: `tenant_id = app_current_tenant()` is a per-row filter that
//    re-reads the setting and re-parses the uuid for every row a query touches (about 1 µs a
//    row: 100 ms on a 100k-order scan). Wrapped in a scalar subquery the planner evaluates it
//    once per query (an InitPlan). The rows admitted are exactly the same.
// 2. customer_order_stats.order_days: the local days (shop zone) each customer placed a counted
//    order, so "customers who ordered in a range" is one overlap test per customer instead of
//    a distinct over every order of the range; counted_gross (Σ total_price of counted orders
//    ever) bounds any range's net spend from above, so long ranges find their top customers
//    among the few largest spenders instead of aggregating every order.

async function tenantPolicies(db: Kysely<any>) {
  const { rows } = await sql<{ table: string }>`
    SELECT tablename AS table FROM pg_policies
    WHERE schemaname = 'public' AND policyname = 'tenant_isolation'`.execute(db)
  return rows.map((r) => r.table)
}

async function setPolicies(db: Kysely<any>, initPlan: boolean) {
  for (const table of await tenantPolicies(db)) {
    const col = sql.ref(table === 'tenants' ? 'id' : 'tenant_id')
    const expr = initPlan
      ? sql`(${col} = (SELECT app_current_tenant()) OR (SELECT app_is_system()))`
      : sql`(${col} = app_current_tenant() OR app_is_system())`
    await sql`ALTER POLICY tenant_isolation ON ${sql.table(table)} USING ${expr} WITH CHECK ${expr}`.execute(
      db,
    )
  }
}

export async function up(db: Kysely<any>): Promise<void> {
  await setPolicies(db, true)
  await sql`ALTER TABLE customer_order_stats
    ADD COLUMN order_days datemultirange NOT NULL DEFAULT '{}'::datemultirange,
    ADD COLUMN counted_gross numeric(20,4) NOT NULL DEFAULT 0`.execute(db)
  await sql`CREATE INDEX customer_order_stats_gross_idx
    ON customer_order_stats (tenant_id, counted_gross DESC, customer_id)`.execute(db)
  // Backfill in each tenant's rollup zone (FORCE RLS applies to the owner too: act as system).
  await sql`SELECT set_config('app.system', 'on', false)`.execute(db)
  await sql`
    UPDATE customer_order_stats s SET order_days = x.days, counted_gross = x.gross
    FROM (
      SELECT o.tenant_id, o.customer_id, sum(o.total_price) AS gross,
        range_agg(daterange((o.processed_at AT TIME ZONE st.iana_timezone)::date,
          (o.processed_at AT TIME ZONE st.iana_timezone)::date, '[]')) AS days
      FROM orders o JOIN analytics_rollup_state st ON st.tenant_id = o.tenant_id
      WHERE o.customer_id IS NOT NULL AND NOT o.test AND o.deleted_at IS NULL
        AND o.cancelled_at IS NULL
      GROUP BY 1, 2
    ) x
    WHERE s.tenant_id = x.tenant_id AND s.customer_id = x.customer_id`.execute(db)
  await sql`SELECT set_config('app.system', '', false)`.execute(db)
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`DROP INDEX customer_order_stats_gross_idx`.execute(db)
  await sql`ALTER TABLE customer_order_stats DROP COLUMN order_days, DROP COLUMN counted_gross`.execute(
    db,
  )
  await setPolicies(db, false)
}
