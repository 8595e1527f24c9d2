import { sql, type Kysely } from 'kysely'

// Per-customer day rollups (shop zone), kept by refreshAnalyticsRollups for the customers whose
// orders a write touches, so the customer figures of a range read rollups instead of orders:
// 1. customer_daily_metrics: one row per customer and local day with counted orders, their gross,
//    and the customer's previous and next order day. "Customers who ordered in [from, to]" is
//    then a count of rows, not a distinct: each such customer has exactly one row in the range
//    whose previous order day is before `from` (or none). A customer with one counted order
//    ever is a row with neither neighbour and orders = 1.
// 2. customer_refund_metrics: refunds of counted orders per customer, order day and refund day,
//    so a range's net spend per customer (orders of the range less their refunds in the range)
//    reads a few rows per customer.
const TABLES = ['customer_daily_metrics', 'customer_refund_metrics'] as const

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('customer_daily_metrics')
    .addColumn('tenant_id', 'uuid', (c) => c.notNull().references('tenants.id').onDelete('cascade'))
    .addColumn('customer_id', 'bigint', (c) => c.notNull())
    .addColumn('day', 'date', (c) => c.notNull())
    .addColumn('orders', 'integer', (c) => c.notNull())
    .addColumn('gross_sales', sql`numeric(20,4)`, (c) => c.notNull())
    .addColumn('prev_day', 'date')
    .addColumn('next_day', 'date')
    .addPrimaryKeyConstraint('customer_daily_metrics_pk', ['tenant_id', 'customer_id', 'day'])
    .execute()
  // A range's rows (top customers, customers who ordered in a short range).
  await sql`CREATE INDEX customer_daily_metrics_day_idx ON customer_daily_metrics
    (tenant_id, day) INCLUDE (customer_id, orders, gross_sales, prev_day)`.execute(db)
  // First orders of customers (new buyers, one-order customers) in a range.
  await sql`CREATE INDEX customer_daily_metrics_first_idx ON customer_daily_metrics
    (tenant_id, day) INCLUDE (next_day, orders) WHERE prev_day IS NULL`.execute(db)
  // Repeat orders whose previous order is before a range that starts early (long ranges).
  await sql`CREATE INDEX customer_daily_metrics_prev_idx ON customer_daily_metrics
    (tenant_id, prev_day, day) WHERE prev_day IS NOT NULL`.execute(db)

  await db.schema
    .createTable('customer_refund_metrics')
    .addColumn('tenant_id', 'uuid', (c) => c.notNull().references('tenants.id').onDelete('cascade'))
    .addColumn('customer_id', 'bigint', (c) => c.notNull())
    .addColumn('order_day', 'date', (c) => c.notNull())
    .addColumn('refund_day', 'date', (c) => c.notNull())
    .addColumn('refunds', sql`numeric(20,4)`, (c) => c.notNull())
    .addPrimaryKeyConstraint('customer_refund_metrics_pk', [
      'tenant_id',
      'customer_id',
      'order_day',
      'refund_day',
    ])
    .execute()
  await sql`CREATE INDEX customer_refund_metrics_day_idx ON customer_refund_metrics
    (tenant_id, order_day) INCLUDE (refund_day, customer_id, refunds)`.execute(db)

  for (const table of TABLES) {
    await sql`ALTER TABLE ${sql.table(table)} ENABLE ROW LEVEL SECURITY`.execute(db)
    await sql`ALTER TABLE ${sql.table(table)} FORCE ROW LEVEL SECURITY`.execute(db)
    await sql`CREATE POLICY tenant_isolation ON ${sql.table(table)}
      USING (tenant_id = (SELECT app_current_tenant()) OR (SELECT app_is_system()))
      WITH CHECK (tenant_id = (SELECT app_current_tenant()) OR (SELECT app_is_system()))`.execute(
      db,
    )
  }

  // Backfill in each tenant's rollup zone (FORCE RLS applies to the owner too: act as system).
  await sql`SELECT set_config('app.system', 'on', false)`.execute(db)
  await sql`SELECT set_config('work_mem', '256MB', false)`.execute(db)
  const day = sql`(o.processed_at AT TIME ZONE st.iana_timezone)::date`
  const counted = sql`o.customer_id IS NOT NULL AND NOT o.test AND o.deleted_at IS NULL
    AND o.cancelled_at IS NULL`
  await sql`
    INSERT INTO customer_daily_metrics (tenant_id, customer_id, day, orders, gross_sales,
      prev_day, next_day)
    SELECT tenant_id, customer_id, day, orders, gross,
      lag(day) OVER w, lead(day) OVER w
    FROM (
      SELECT o.tenant_id, o.customer_id, ${day} AS day, count(*)::int AS orders,
        sum(o.total_price) AS gross
      FROM orders o JOIN analytics_rollup_state st ON st.tenant_id = o.tenant_id
      WHERE ${counted}
      GROUP BY 1, 2, 3
    ) x
    WINDOW w AS (PARTITION BY tenant_id, customer_id ORDER BY day)`.execute(db)
  await sql`
    INSERT INTO customer_refund_metrics (tenant_id, customer_id, order_day, refund_day, refunds)
    SELECT o.tenant_id, o.customer_id, ${day},
      (r.created_at AT TIME ZONE st.iana_timezone)::date, sum(r.amount)
    FROM refunds r
    JOIN orders o ON o.tenant_id = r.tenant_id AND o.id = r.order_id
    JOIN analytics_rollup_state st ON st.tenant_id = o.tenant_id
    WHERE ${counted}
    GROUP BY 1, 2, 3, 4`.execute(db)
  await sql`SELECT set_config('app.system', '', false)`.execute(db)
  await sql`RESET work_mem`.execute(db)
}

export async function down(db: Kysely<any>): Promise<void> {
  for (const table of [...TABLES].reverse()) await db.schema.dropTable(table).execute()
}
